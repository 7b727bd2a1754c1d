import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';

/** Alarms on what the bot logs (one JSON line per audit event): failed or expired workflows, watch findings. */
export function logAlarms(scope: Construct, logGroup: logs.ILogGroup, topic: sns.ITopic): void {
  const filters: [string, string, string][] = [
    [
      'RunsFailed',
      '{ $.event = "run_failed" || $.event = "run_expired" }',
      'A workflow failed or expired: read its thread in Slack (/idc show <run>)',
    ],
    [
      'WatchFindings',
      '{ $.event = "watch_finding" }',
      'The replication watch reported a problem: read the notifications channel',
    ],
  ];
  for (const [name, pattern, description] of filters) {
    const filter = new logs.MetricFilter(scope, `${name}Filter`, {
      logGroup,
      filterPattern: logs.FilterPattern.literal(pattern),
      metricNamespace: 'IdcBot',
      metricName: name,
      metricValue: '1',
    });
    new cloudwatch.Alarm(scope, name, {
      metric: filter.metric({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    }).addAlarmAction(new actions.SnsAction(topic));
  }
}
