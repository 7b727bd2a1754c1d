import { join } from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';

/** The repository (infra/ runs from the sources under ts-node and jest, and from dist-dev/ when built). */
export const ROOT = join(__dirname, '..', ...(__dirname.includes('dist-dev') ? ['..'] : []));

/** What the stack gives the bot's runtime (the Lambda function or the Fargate service). */
export interface BotParts {
  stack: Stack;
  role: iam.Role;
  logGroup: logs.LogGroup;
  alarms: sns.Topic;
  /** The bot's environment (no secrets: those are read from Secrets Manager). */
  environment: Record<string, string>;
}
