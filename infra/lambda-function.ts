import { join } from 'node:path';
import { ArnFormat, CfnOutput, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ROOT, type BotParts } from './parts';

/**
 * The bot as a Lambda function: Slack's requests through a Function URL (Slack signs, the bot
 * checks), the tick on a one-minute schedule, the slow part of a request handed to an asynchronous
 * invocation of itself; alarms on errors and throttles.
 */
export function botFunction(bot: BotParts, code: lambda.Code | undefined, reservedConcurrency: number): void {
  const functionName = `${bot.stack.stackName}-bot`;
  const fn = new lambda.Function(bot.stack, 'Bot', {
    functionName,
    description: 'idc-bot: Slack requests (Function URL) and the scheduled tick',
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    handler: 'index.handler',
    code: code ?? lambda.Code.fromAsset(join(ROOT, 'dist-lambda')),
    role: bot.role,
    memorySize: 1024,
    // A Slack request returns at its ack; a handed-over approval may run AWS steps up to the next wait.
    timeout: Duration.minutes(5),
    reservedConcurrentExecutions: reservedConcurrency,
    logGroup: bot.logGroup,
    environment: bot.environment,
    // A deferred slow part is retried once by Lambda; the handler runs each trigger id once.
    retryAttempts: 1,
    maxEventAge: Duration.minutes(15),
  });
  // The slow part of a Slack request runs in another invocation of this function (asynchronous).
  bot.role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['lambda:InvokeFunction'],
      resources: [
        bot.stack.formatArn({
          service: 'lambda',
          resource: 'function',
          resourceName: functionName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    }),
  );
  const url = fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE }); // Slack signs; the bot checks
  new events.Rule(bot.stack, 'Tick', {
    description: 'Advances idc-bot workflows and runs the replication watch',
    schedule: events.Schedule.rate(Duration.minutes(1)),
    targets: [new targets.LambdaFunction(fn, { event: events.RuleTargetInput.fromObject({}), retryAttempts: 0 })],
  });
  const alarm = (name: string, metric: cloudwatch.IMetric) =>
    new cloudwatch.Alarm(bot.stack, name, {
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(new actions.SnsAction(bot.alarms));
  alarm('Errors', fn.metricErrors({ period: Duration.minutes(5) }));
  alarm('Throttles', fn.metricThrottles({ period: Duration.minutes(5) }));
  new CfnOutput(bot.stack, 'SlackRequestUrl', {
    value: `${url.url}slack/events`,
    description: 'Slack app: Slash Commands and Interactivity request URL',
  });
}
