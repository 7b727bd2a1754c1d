import { basename } from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { parseConfigFile, readConfigText } from '../src/config-file';
import { sha256 } from '../src/config-parameter';
import type { FleetInstance } from '../src/fleet-iam-policy';
import type { BotSettings } from './settings';

/** SSM's limits on a parameter's value: the standard tier, then the advanced one (which costs). */
const STANDARD_BYTES = 4096;
const ADVANCED_BYTES = 8192;

/**
 * What the bot is told about the instances it serves. With `-c config=idc-bot.yml`: the file, checked
 * here at synth (a mistake stops the deploy, naming the path), goes into an SSM parameter, and the
 * function gets its name and SHA-256 (Lambda caps its environment at 4 KB, and a parameter edited
 * outside the deploy is refused). Without it: one instance, as environment variables.
 */
export function deployedConfig(
  stack: Stack,
  s: BotSettings,
): { instances: FleetInstance[]; environment: Record<string, string>; parameter?: ssm.StringParameter } {
  if (!s.config) {
    const instance = {
      name: 'default',
      homeRegion: s.homeRegion as string,
      allowedRegions: (s.allowedRegions ?? []).join(','),
      keyAlias: s.keyAlias ?? 'alias/identity-center',
      ...(s.instanceArn ? { instanceArn: s.instanceArn } : {}),
      ...(s.idcRoleArn ? { roleArn: s.idcRoleArn } : {}),
    };
    const environment: Record<string, string> = {
      IDC_CHANNEL: s.channel as string,
      IDC_ROLES: JSON.stringify(s.roles),
      IDC_HOME_REGION: instance.homeRegion,
      IDC_ALLOWED_REGIONS: instance.allowedRegions,
      IDC_KEY_ALIAS: instance.keyAlias,
      ...(s.notifyChannel ? { IDC_NOTIFY_CHANNEL: s.notifyChannel } : {}),
      ...(s.instanceArn ? { IDC_INSTANCE_ARN: s.instanceArn } : {}),
      ...(s.idcRoleArn ? { IDC_ROLE_ARN: s.idcRoleArn } : {}),
      ...(s.idcRoleExternalId ? { IDC_ROLE_EXTERNAL_ID: s.idcRoleExternalId } : {}),
      ...(s.delegatedAdminAccount ? { IDC_DELEGATED_ADMIN_ACCOUNT: s.delegatedAdminAccount } : {}),
    };
    return { instances: [instance], environment };
  }
  const text = readConfigText(s.config, '-c config');
  const instances = parseConfigFile(text, s.config);
  const bytes = Buffer.byteLength(text);
  if (bytes > ADVANCED_BYTES)
    throw new Error(
      `${s.config} is ${bytes} bytes; an SSM parameter holds at most ${ADVANCED_BYTES}: move shared settings under defaults, or drop comments`,
    );
  const name = `/${stack.stackName}/config`;
  const parameter = new ssm.StringParameter(stack, 'Config', {
    parameterName: name,
    description: `idc-bot configuration (${basename(s.config)}); deployed by cdk deploy, checked by the bot against IDC_CONFIG_SHA256`,
    stringValue: text,
    tier: bytes > STANDARD_BYTES ? ssm.ParameterTier.ADVANCED : ssm.ParameterTier.STANDARD,
  });
  return { instances, environment: { IDC_CONFIG: `ssm:${name}`, IDC_CONFIG_SHA256: sha256(text) }, parameter };
}
