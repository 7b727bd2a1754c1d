import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Aspects } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { settingsFromContext } from '../../infra/settings';
import { RUNTIME_ENV } from '../../infra/runtime-env';
import { IdcBotStack } from '../../infra/stack';
import { sha256 } from '../../src/config-parameter';
import { botIamPolicy } from '../../src/iam-policy';
import { TABLE_SCHEMA } from '../../src/store/keys';
import { freshBundle } from '../support/deployment';

const CONTEXT = {
  homeRegion: 'us-east-1',
  allowedRegions: 'eu-central-1,eu-west-1',
  channel: 'C0IDC123',
  roles: '{"identity-admins":["U0ANA","U0BEN"],"requesters":["S0REQ"]}',
};
let bundle: string;
beforeAll(async () => {
  bundle = await freshBundle();
});
afterAll(() => rmSync(bundle, { recursive: true, force: true }));

/** Synthesizes the stack (deployed in eu-central-1, an additional Region of a us-east-1 instance) with cdk-nag. */
function synth(context: Record<string, string>) {
  const app = new App();
  const stack = new IdcBotStack(app, 'IdcBot', {
    env: { account: '111122223333', region: 'eu-central-1' },
    settings: settingsFromContext((k) => ({ ...CONTEXT, ...context })[k]),
    lambdaCode: lambda.Code.fromAsset(bundle),
    containerImage: ecs.ContainerImage.fromRegistry('idc-bot:test'),
  });
  Aspects.of(stack).add(new AwsSolutionsChecks());
  const template = Template.fromStack(stack);
  const nag = Annotations.fromStack(stack)
    .findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))
    .map((e) => `${e.id}: ${String(e.entry.data).split('\n')[0]}`);
  return { stack, template, nag };
}

/** IAM documents as CloudFormation writes them (a one-element list becomes its element). */
const normal = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.length === 1
      ? normal(v[0])
      : v.map(normal)
    : v && typeof v === 'object'
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normal(x)]))
      : v;

function botPolicy(template: Template) {
  const [policy] = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
    String((p as { Properties: { PolicyName: string } }).Properties.PolicyName).startsWith('BotPolicy'),
  ) as { Properties: { PolicyDocument: { Statement: unknown[] } } }[];
  return policy?.Properties.PolicyDocument;
}

describe('the deployment stack (infra/), synthesized', () => {
  it('Lambda: the bundled handler, arm64 on Node 24, a Function URL, a schedule, reserved concurrency, no secret in the template', () => {
    const { template, nag } = synth({ runtime: 'lambda' });
    expect(nag).toEqual([]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 300,
      MemorySize: 1024,
      ReservedConcurrentExecutions: 5,
      Environment: {
        Variables: Match.objectLike({
          SLACK_SECRET_ARN: { Ref: Match.stringLikeRegexp('SlackCredentials') },
          IDC_HOME_REGION: 'us-east-1',
          IDC_ALLOWED_REGIONS: 'eu-central-1,eu-west-1',
          DYNAMODB_TABLE: 'idc-bot',
          ...RUNTIME_ENV, // what the cold-start benchmark loads the bundle with
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    // The uploaded code: the handler and what it imports, without Express or Socket Mode (not used on Lambda).
    const code = readFileSync(join(bundle, 'index.js'), 'utf8');
    expect(code).toContain('AwsLambdaReceiver');
    expect(code).not.toMatch(/SlackWebSocket|body-parser|mime-db|gb18030/);
    // Minified but for names (readable stack traces without source maps, which cost cold starts).
    expect(code).toContain('function createBot(');
    expect(code.length).toBeLessThan(3_500_000);
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 1 });
    const text = JSON.stringify(template.toJSON());
    expect(text).not.toMatch(/xox[bp]-[A-Za-z0-9]|xapp-[A-Za-z0-9]/);
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    expect(Object.keys(fn.Properties.Environment.Variables)).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/^SLACK_(BOT_TOKEN|SIGNING_SECRET|APP_TOKEN)$|^NODE_OPTIONS$/)]),
    );
    // The function may invoke itself (the slow part of a Slack request), and nothing else.
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).toContain(
      ':lambda:eu-central-1:111122223333:function:IdcBot-bot"',
    );
    template.resourceCountIs('AWS::ECS::Service', 0);
  });

  it('state: the table of src/store (keys, indexes, TTL), on demand, point-in-time recovery, deletion protection, retained', () => {
    const { template } = synth({ runtime: 'lambda' });
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        TableName: 'idc-bot',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: TABLE_SCHEMA.pk, KeyType: 'HASH' },
          { AttributeName: TABLE_SCHEMA.sk, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: TABLE_SCHEMA.indexes.map((i) =>
          Match.objectLike({
            IndexName: i.name,
            KeySchema: [
              { AttributeName: i.pk, KeyType: 'HASH' },
              { AttributeName: i.sk, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: i.projection },
          }),
        ),
        TimeToLiveSpecification: { AttributeName: TABLE_SCHEMA.ttl, Enabled: true },
        Replicas: [
          Match.objectLike({
            Region: 'eu-central-1',
            DeletionProtectionEnabled: true,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        ],
      }),
    });
    template.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain' });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('IAM from one source: the role carries exactly the policy npm run iam-policy generates, without CreateTable', () => {
    const { template } = synth({ runtime: 'lambda' });
    const expected = botIamPolicy({
      accountId: '111122223333',
      primaryRegion: 'us-east-1',
      allowedRegions: ['eu-central-1', 'eu-west-1'],
      table: 'idc-bot',
      tableRegion: 'eu-central-1',
      keyAlias: 'alias/identity-center',
      createTable: false,
    });
    expect(normal(botPolicy(template))).toEqual(normal(expected));
  });

  it('IAM outside the management account: only the table and sts:AssumeRole on IDC_ROLE_ARN', () => {
    const idcRoleArn = 'arn:aws:iam::999988887777:role/idc-bot-management';
    const { template, nag } = synth({ runtime: 'lambda', idcRoleArn });
    expect(nag).toEqual([]);
    const statements = botPolicy(template)?.Statement as { Action: string | string[]; Resource: unknown }[];
    expect(statements.flatMap((st) => st.Action).every((a) => a.startsWith('dynamodb:'))).toBe(false);
    expect(statements.filter((st) => !String(st.Action).startsWith('dynamodb:'))).toEqual([
      expect.objectContaining({ Action: 'sts:AssumeRole', Resource: idcRoleArn }),
    ]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ IDC_ROLE_ARN: idcRoleArn }) },
    });
  });

  it('several instances (-c config=idc-bot.yml): the file checked at synth, in an SSM parameter the function reads, pinned by its SHA-256', () => {
    const dir = mkdtempSync(join(tmpdir(), 'idc-stack-'));
    const file = join(dir, 'idc-bot.yml');
    const text = readFileSync(join(__dirname, '../../idc-bot.example.yml'), 'utf8');
    writeFileSync(file, text);
    const single = Object.fromEntries(Object.keys(CONTEXT).map((k) => [k, undefined]));
    for (const runtime of ['lambda', 'container']) {
      const { template, nag } = synth({ ...single, runtime, config: file } as Record<string, string>);
      expect(nag).toEqual([]);
      template.hasResourceProperties('AWS::SSM::Parameter', { Name: '/IdcBot/config', Value: text, Tier: 'Standard' });
      const env = { IDC_CONFIG: 'ssm:/IdcBot/config', IDC_CONFIG_SHA256: sha256(text) };
      const vars = JSON.stringify(template.toJSON());
      for (const [k, v] of Object.entries(env)) expect(vars).toContain(runtime === 'lambda' ? `"${k}":"${v}"` : v);
      // Nothing per instance in the environment: the file says it.
      for (const k of ['IDC_CHANNEL', 'IDC_ROLES', 'IDC_HOME_REGION', 'IDC_ROLE_ARN']) expect(vars).not.toContain(k);
      const statements = botPolicy(template)?.Statement as {
        Sid: string;
        Action: string | string[];
        Resource: unknown;
      }[];
      // The example's instances each have a role in their own account: the bot assumes exactly those.
      expect(statements.map((st) => st.Sid)).toEqual(['BotTable', 'AssumeEachInstanceRole']);
      expect(statements[1]?.Resource).toEqual([
        'arn:aws:iam::111111111111:role/idc-bot',
        'arn:aws:iam::222222222222:role/idc-bot',
      ]);
      expect(vars).toMatch(/"ssm:GetParameter"[^}]*\}[^}]*parameter",\{"Ref":"Config/);
      // The role each instance's role must trust is an output.
      template.hasOutput('BotRoleArn', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('BotRole'), 'Arn'] } });
    }
    // Two instances in the bot's own account: each one's statements, told apart.
    writeFileSync(file, text.replace(/ *roleArn: .*\n/g, ''));
    const own = botPolicy(synth({ ...single, config: file } as Record<string, string>).template)?.Statement as {
      Sid: string;
    }[];
    expect(own.map((st) => st.Sid)).toEqual(
      expect.arrayContaining(['IdcChangeRegionsAndEncryptionProd', 'IdcChangeRegionsAndEncryptionNonprod']),
    );
    // A mistake in the file stops the synth, naming the file and the path.
    writeFileSync(file, 'instances:\n  - { name: prod, primaryRegion: mars-1, channel: C0X1 }\n');
    expect(() => synth({ ...single, config: file } as Record<string, string>)).toThrow(
      /idc-bot\.yml is invalid:\n {2}- instances\[0\]\.primaryRegion: must be a Region name/,
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it('alarms: errors, throttles, failed or expired workflows and watch findings, to an encrypted topic', () => {
    const { template } = synth({ runtime: 'lambda', alarmEmail: 'oncall@example.com' });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ $.event = "run_failed" || $.event = "run_expired" }',
      MetricTransformations: [Match.objectLike({ MetricNamespace: 'IdcBot', MetricName: 'RunsFailed' })],
    });
    template.hasResourceProperties('AWS::Logs::MetricFilter', { FilterPattern: '{ $.event = "watch_finding" }' });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
  });

  it('container: Fargate arm64, Socket Mode with no inbound port, health check on /healthz, 60 s to stop, non-root', () => {
    const { template, nag } = synth({ runtime: 'container' });
    expect(nag).toEqual([]);
    template.resourceCountIs('AWS::Lambda::Function', 0);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [
        Match.objectLike({
          User: 'node',
          ReadonlyRootFilesystem: true,
          StopTimeout: 60,
          HealthCheck: Match.objectLike({ Command: Match.arrayWith([Match.stringLikeRegexp('/healthz')]) }),
          Environment: Match.arrayWith([{ Name: 'SLACK_SECRET_ARN', Value: Match.anyValue() }]),
        }),
      ],
    });
    template.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 1,
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'ENABLED' }) },
    });
    for (const sg of Object.values(template.findResources('AWS::EC2::SecurityGroup')))
      expect(
        (sg as { Properties: { SecurityGroupIngress?: unknown } }).Properties.SecurityGroupIngress,
      ).toBeUndefined();
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
  });

  it('container over HTTP: an HTTPS-only load balancer in front, health checks on /healthz, tasks reachable only from it', () => {
    const certificateArn = 'arn:aws:acm:eu-central-1:111122223333:certificate/0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e';
    const { template, nag } = synth({
      runtime: 'container',
      containerTransport: 'http',
      domainName: 'idc-bot.example.com',
      certificateArn,
    });
    expect(nag).toEqual([]);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
        { Key: 'access_logs.s3.enabled', Value: 'true' },
      ]),
    });
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: certificateArn }],
      SslPolicy: Match.stringLikeRegexp('TLS1[23]'),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 3000,
      HealthCheckPath: '/healthz',
      TargetType: 'ip',
    });
    // The tasks accept port 3000 from the load balancer's security group, and nothing else.
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map(
      (r) => (r as { Properties: Record<string, unknown> }).Properties,
    );
    expect(ingress).toEqual([
      expect.objectContaining({ FromPort: 3000, ToPort: 3000, SourceSecurityGroupId: expect.anything() }),
    ]);
    template.hasOutput('SlackRequestUrl', { Value: 'https://idc-bot.example.com/slack/events' });
    expect(() =>
      settingsFromContext((k) => ({ ...CONTEXT, runtime: 'container', containerTransport: 'http' })[k]),
    ).toThrow(/certificateArn: containerTransport=http needs domainName and certificateArn/);
  });

  it('container image: a multi-stage Dockerfile, production tree only, non-root; the build context holds only what it needs', () => {
    const root = join(__dirname, '../..');
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile.match(/^FROM node:(22|24)[\w.-]* AS \w+$/gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^ENV NODE_ENV=production/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^CMD \["node", "--enable-source-maps", "dist\/src\/main.js"\]$/m);
    // CDK stages the build context through .dockerignore: no node_modules, tests, emulators or secrets.
    const app = new App();
    new IdcBotStack(app, 'IdcBot', {
      env: { account: '111122223333', region: 'eu-central-1' },
      settings: settingsFromContext((k) => ({ ...CONTEXT, runtime: 'container' })[k]),
    });
    const out = app.synth().directory;
    const staged = readdirSync(out).find((d) => d.startsWith('asset.') && existsSync(join(out, d, 'Dockerfile')));
    expect(staged).toBeDefined();
    const files = readdirSync(join(out, staged as string)).sort();
    expect(files).toEqual(
      [
        '.dockerignore',
        'Dockerfile',
        'package-lock.json',
        'package.json',
        'src',
        'tsconfig.build.json',
        'tsconfig.json',
        'workflows',
      ].sort(),
    );
    rmSync(out, { recursive: true, force: true });
  });

  it('refuses bad deployment settings with what to pass', () => {
    expect(() => settingsFromContext((k) => ({ channel: '#ops', allowedRegions: 'eu-central-1' })[k])).toThrow(
      /channel: must be a channel ID[\s\S]*homeRegion: required \(or -c config=idc-bot\.yml[\s\S]*roles: required[\s\S]*-c homeRegion=us-east-1/,
    );
    expect(() => settingsFromContext((k) => ({ config: 'idc-bot.yml', homeRegion: 'us-east-1' })[k])).toThrow(
      /homeRegion: the config file says this per instance; drop -c homeRegion/,
    );
  });
});
