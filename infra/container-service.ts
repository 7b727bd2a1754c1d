import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { NagSuppressions } from 'cdk-nag';
import { httpsIngress } from './https-ingress';
import { ROOT, type BotParts } from './parts';
import type { BotSettings } from './settings';

/**
 * The bot as one Fargate task: Socket Mode with no inbound port (public subnets, no NAT gateway), or
 * HTTP behind an HTTPS load balancer that alone may reach it; health checks on /healthz, 60 s to stop.
 */
export function botService(
  bot: BotParts,
  image: ecs.ContainerImage | undefined,
  settings: Pick<BotSettings, 'containerTransport' | 'domainName' | 'certificateArn'>,
): void {
  // Socket Mode needs no inbound port: public subnets, a public IP for outbound, no NAT gateway.
  // HTTP adds a load balancer in front, and only it may reach the tasks.
  const vpc = new ec2.Vpc(bot.stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
    flowLogs: { rejected: { trafficType: ec2.FlowLogTrafficType.REJECT } },
  });
  const cluster = new ecs.Cluster(bot.stack, 'Cluster', {
    vpc,
    containerInsightsV2: ecs.ContainerInsights.ENABLED,
  });
  const task = new ecs.FargateTaskDefinition(bot.stack, 'Task', {
    cpu: 256,
    memoryLimitMiB: 512,
    taskRole: bot.role,
    runtimePlatform: {
      cpuArchitecture: ecs.CpuArchitecture.ARM64,
      operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
    },
  });
  const container = task.addContainer('bot', {
    image: image ?? ecs.ContainerImage.fromAsset(ROOT),
    environment: { ...bot.environment, PORT: '3000' },
    logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'bot', logGroup: bot.logGroup }),
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
  const http = settings.containerTransport === 'http';
  if (http) container.addPortMappings({ containerPort: 3000 });
  const securityGroup = new ec2.SecurityGroup(bot.stack, 'NoInbound', {
    vpc,
    allowAllOutbound: true,
    description: http
      ? 'idc-bot: inbound from its load balancer only; outbound to Slack and AWS'
      : 'idc-bot: outbound to Slack and AWS only',
  });
  const service = new ecs.FargateService(bot.stack, 'Service', {
    cluster,
    taskDefinition: task,
    desiredCount: 1,
    assignPublicIp: true,
    securityGroups: [securityGroup],
    minHealthyPercent: 100,
    maxHealthyPercent: 200,
    circuitBreaker: { rollback: true },
  });
  const { domainName, certificateArn } = settings;
  if (http && domainName && certificateArn) httpsIngress(bot.stack, { vpc, service, domainName, certificateArn });
  NagSuppressions.addResourceSuppressions(task, [
    {
      id: 'AwsSolutions-ECS2',
      reason: 'Only non-secret settings are environment variables; the Slack credentials are read from Secrets Manager',
    },
  ]);
  NagSuppressions.addResourceSuppressions(
    task,
    [{ id: 'AwsSolutions-IAM5', reason: 'The execution role CDK makes for pulling the image and writing logs' }],
    true,
  );
}
