import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { settingsFromContext } from './settings';
import { IdcBotStack } from './stack';

/** `npx cdk synth` / `npx cdk deploy` (cdk.json runs this after `npm run bundle`). */
const app = new App();
const settings = settingsFromContext((k) => app.node.tryGetContext(k));
new IdcBotStack(app, (app.node.tryGetContext('stackName') as string | undefined) ?? 'IdcBot', {
  settings,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: `idc-bot (${settings.runtime}): Slack chat-ops for IAM Identity Center multi-Region replication`,
});
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
