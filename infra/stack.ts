import { join } from 'node:path';
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import { botIamPolicy } from '../src/iam-policy';
import { TABLE_SCHEMA } from '../src/store/keys';
import { logAlarms } from './alarms';
import { httpsIngress } from './https-ingress';
import { RUNTIME_ENV } from './runtime-env';
import type { BotSettings } from './settings';

const ROOT = join(__dirname, '..', ...(__dirname.includes('dist-dev') ? ['..'] : []));

export interface IdcBotStackProps extends StackProps {
  settings: BotSettings;
  /** The Lambda package (default: `dist-lambda/`, made by `npm run bundle`). */
  lambdaCode?: lambda.Code;
  /** The container image (default: built from the repository's Dockerfile at deploy time). */
  containerImage?: ecs.ContainerImage;
}

/**
 * The bot in one stack: its table, its Slack secret, its role (from the same policy as
 * docs/iam-policy.json), alarms, and either a Lambda function (HTTP, Function URL + a schedule) or
 * an ECS Fargate service (Socket Mode, no inbound port). Deploy it in an additional Region of the
 * instance, not the primary, so it keeps answering when the primary is down.
 */
export class IdcBotStack extends Stack {
  readonly table: dynamodb.TableV2;
  readonly secret: secretsmanager.Secret;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly alarms: sns.Topic;

  constructor(scope: Construct, id: string, props: IdcBotStackProps) {
    super(scope, id, props);
    const s = props.settings;

    const index = (i: (typeof TABLE_SCHEMA.indexes)[number]) => ({
      indexName: i.name,
      partitionKey: { name: i.pk, type: dynamodb.AttributeType.STRING },
      sortKey: { name: i.sk, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType[i.projection],
    });
    this.table = new dynamodb.TableV2(this, 'Table', {
      tableName: s.tableName,
      partitionKey: { name: TABLE_SCHEMA.pk, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.sk, type: dynamodb.AttributeType.STRING },
      globalSecondaryIndexes: TABLE_SCHEMA.indexes.map(index),
      timeToLiveAttribute: TABLE_SCHEMA.ttl,
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
    });

    this.secret = new secretsmanager.Secret(this, 'SlackCredentials', {
      description:
        'idc-bot Slack credentials: a JSON object with SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and (Socket Mode) SLACK_APP_TOKEN; see README "Deploy to AWS"',
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const principal =
      s.runtime === 'lambda'
        ? new iam.ServicePrincipal('lambda.amazonaws.com')
        : new iam.ServicePrincipal('ecs-tasks.amazonaws.com');
    this.role = new iam.Role(this, 'BotRole', { assumedBy: principal, description: 'idc-bot' });
    this.secret.grantRead(this.role);
    this.logGroup.grantWrite(this.role);
    const policy = botIamPolicy({
      accountId: this.account,
      primaryRegion: s.homeRegion,
      allowedRegions: s.allowedRegions,
      table: s.tableName,
      tableRegion: this.region,
      keyAlias: s.keyAlias,
      instanceArn: s.instanceArn,
      createTable: false,
    });
    // Outside the management account, the bot assumes IDC_ROLE_ARN there for Identity Center and KMS
    // (that role gets `npm run iam-policy`) and keeps only its table here.
    const statements = s.idcRoleArn ? policy.Statement.filter((st) => st.Sid === 'BotTable') : policy.Statement;
    const botPolicy = new iam.Policy(this, 'BotPolicy', {
      roles: [this.role],
      document: iam.PolicyDocument.fromJson({ ...policy, Statement: statements }),
    });
    if (s.idcRoleArn)
      this.role.addToPolicy(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [s.idcRoleArn] }));
    NagSuppressions.addResourceSuppressions(botPolicy, [
      {
        id: 'AwsSolutions-IAM5',
        reason:
          'Generated by src/iam-policy.ts and evaluated in test/integration/iam-policy.test.ts: wildcards only where IAM allows no narrower resource (List/Describe calls, keys created at run time and the table indexes), narrowed by tag, key spec, key type and Region conditions',
      },
    ]);

    const environment: Record<string, string> = {
      ...RUNTIME_ENV,
      SLACK_SECRET_ARN: this.secret.secretArn,
      IDC_CHANNEL: s.channel,
      IDC_ROLES: JSON.stringify(s.roles),
      IDC_HOME_REGION: s.homeRegion,
      IDC_ALLOWED_REGIONS: s.allowedRegions.join(','),
      IDC_KEY_ALIAS: s.keyAlias,
      DYNAMODB_TABLE: s.tableName,
      LOG_LEVEL: 'info',
      ...(s.notifyChannel ? { IDC_NOTIFY_CHANNEL: s.notifyChannel } : {}),
      ...(s.instanceArn ? { IDC_INSTANCE_ARN: s.instanceArn } : {}),
      ...(s.idcRoleArn ? { IDC_ROLE_ARN: s.idcRoleArn } : {}),
      ...(s.idcRoleExternalId ? { IDC_ROLE_EXTERNAL_ID: s.idcRoleExternalId } : {}),
      ...(s.viewerRole ? { IDC_VIEWER_ROLE: s.viewerRole } : {}),
      ...(s.delegatedAdminAccount ? { IDC_DELEGATED_ADMIN_ACCOUNT: s.delegatedAdminAccount } : {}),
    };

    this.alarms = new sns.Topic(this, 'Alarms', {
      displayName: 'idc-bot alarms',
      enforceSSL: true,
      masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
    });
    if (s.alarmEmail) this.alarms.addSubscription(new subscriptions.EmailSubscription(s.alarmEmail));

    if (s.runtime === 'lambda') this.lambda(props, environment);
    else this.container(props, environment);
    logAlarms(this, this.logGroup, this.alarms);

    new CfnOutput(this, 'SecretArn', {
      value: this.secret.secretArn,
      description: 'Put the Slack credentials here (JSON)',
    });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    NagSuppressions.addResourceSuppressions(this.secret, [
      {
        id: 'AwsSolutions-SMG4',
        reason:
          'Slack tokens and the signing secret are issued by Slack, not rotatable by a Secrets Manager rotation function; docs/OPERATIONS.md says how to roll them',
      },
    ]);
  }

  private lambda(props: IdcBotStackProps, environment: Record<string, string>) {
    const functionName = `${this.stackName}-bot`;
    const fn = new lambda.Function(this, 'Bot', {
      functionName,
      description: 'idc-bot: Slack requests (Function URL) and the scheduled tick',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: props.lambdaCode ?? lambda.Code.fromAsset(join(ROOT, 'dist-lambda')),
      role: this.role,
      memorySize: 1024,
      // A Slack request returns at its ack; a handed-over approval may run AWS steps up to the next wait.
      timeout: Duration.minutes(5),
      reservedConcurrentExecutions: props.settings.reservedConcurrency,
      logGroup: this.logGroup,
      environment,
      // A deferred slow part is retried once by Lambda; the handler runs each trigger id once.
      retryAttempts: 1,
      maxEventAge: Duration.minutes(15),
    });
    // The slow part of a Slack request runs in another invocation of this function (asynchronous).
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [
          this.formatArn({
            service: 'lambda',
            resource: 'function',
            resourceName: functionName,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    const url = fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE }); // Slack signs; the bot checks
    new events.Rule(this, 'Tick', {
      description: 'Advances idc-bot workflows and runs the replication watch',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(fn, { event: events.RuleTargetInput.fromObject({}), retryAttempts: 0 })],
    });
    const alarm = (name: string, metric: cloudwatch.IMetric) =>
      new cloudwatch.Alarm(this, name, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(new actions.SnsAction(this.alarms));
    alarm('Errors', fn.metricErrors({ period: Duration.minutes(5) }));
    alarm('Throttles', fn.metricThrottles({ period: Duration.minutes(5) }));
    new CfnOutput(this, 'SlackRequestUrl', {
      value: `${url.url}slack/events`,
      description: 'Slack app: Slash Commands and Interactivity request URL',
    });
  }

  private container(props: IdcBotStackProps, environment: Record<string, string>) {
    // Socket Mode needs no inbound port: public subnets, a public IP for outbound, no NAT gateway.
    // HTTP adds a load balancer in front, and only it may reach the tasks.
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
      flowLogs: { rejected: { trafficType: ec2.FlowLogTrafficType.REJECT } },
    });
    const cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    const task = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: 256,
      memoryLimitMiB: 512,
      taskRole: this.role,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    const container = task.addContainer('bot', {
      image: props.containerImage ?? ecs.ContainerImage.fromAsset(ROOT),
      environment: { ...environment, PORT: '3000' },
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'bot', logGroup: this.logGroup }),
      readonlyRootFilesystem: true,
      user: 'node',
      // SIGTERM: stop claiming, finish or release the step in hand (20 s), then exit.
      stopTimeout: Duration.seconds(60),
      healthCheck: {
        command: [
          'CMD',
          'node',
          '-e',
          "fetch('http://127.0.0.1:3000/healthz').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))",
        ],
        interval: Duration.seconds(30),
        startPeriod: Duration.seconds(30),
      },
    });
    const http = props.settings.containerTransport === 'http';
    if (http) container.addPortMappings({ containerPort: 3000 });
    const securityGroup = new ec2.SecurityGroup(this, 'NoInbound', {
      vpc,
      allowAllOutbound: true,
      description: http
        ? 'idc-bot: inbound from its load balancer only; outbound to Slack and AWS'
        : 'idc-bot: outbound to Slack and AWS only',
    });
    const service = new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition: task,
      desiredCount: 1,
      assignPublicIp: true,
      securityGroups: [securityGroup],
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
    });
    const { domainName, certificateArn } = props.settings;
    if (http && domainName && certificateArn) httpsIngress(this, { vpc, service, domainName, certificateArn });
    NagSuppressions.addResourceSuppressions(task, [
      {
        id: 'AwsSolutions-ECS2',
        reason:
          'Only non-secret settings are environment variables; the Slack credentials are read from Secrets Manager',
      },
    ]);
    NagSuppressions.addResourceSuppressions(
      task,
      [{ id: 'AwsSolutions-IAM5', reason: 'The execution role CDK makes for pulling the image and writing logs' }],
      true,
    );
  }
}
