import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { bundleLambda } from '../../infra/bundle';
import { settingsFromContext } from '../../infra/settings';
import { IdcBotStack } from '../../infra/stack';

/** The bundle that `npm run bundle` would upload, built into a fresh folder. */
export async function freshBundle(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'idc-bundle-'));
  await bundleLambda(dir);
  return dir;
}

/**
 * The Lambda function's environment as the stack synthesizes it (for `context`, deployed in
 * `region`), with CloudFormation references replaced by `refs` (e.g. the secret's ARN).
 */
export function synthesizedLambdaEnv(
  bundle: string,
  context: Record<string, string>,
  region: string,
  refs: Record<string, string>,
): Record<string, string> {
  const stack = new IdcBotStack(new App(), 'IdcBot', {
    env: { account: '111122223333', region },
    settings: settingsFromContext((k) => context[k]),
    lambdaCode: lambda.Code.fromAsset(bundle),
  });
  const [fn] = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')) as {
    Properties: { Environment: { Variables: Record<string, unknown> } };
  }[];
  return Object.fromEntries(
    Object.entries(fn?.Properties.Environment.Variables ?? {}).map(([k, v]) => {
      if (typeof v === 'string') return [k, v];
      const ref = (v as { Ref?: string }).Ref ?? '';
      const key = Object.keys(refs).find((r) => ref.startsWith(r));
      if (!key) throw new Error(`${k} refers to ${JSON.stringify(v)}: pass its value`);
      return [k, refs[key] as string];
    }),
  );
}
