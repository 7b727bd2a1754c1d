import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';

/**
 * HTTP container: an internet-facing Application Load Balancer with HTTPS only (TLS 1.2+, the
 * domain's ACM certificate), forwarding to the tasks' port 3000, which only the load balancer may
 * reach; health checks on GET /healthz; access logs to an encrypted bucket. Slack signs every
 * request and the bot checks the signature, so the listener is open to the internet (Slack
 * publishes no fixed address ranges).
 */
export function httpsIngress(
  scope: Construct,
  p: { vpc: ec2.IVpc; service: ecs.FargateService; domainName: string; certificateArn: string },
): void {
  const logs = new s3.Bucket(scope, 'AccessLogs', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    lifecycleRules: [{ expiration: Duration.days(90) }],
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const alb = new elbv2.ApplicationLoadBalancer(scope, 'LoadBalancer', {
    vpc: p.vpc,
    internetFacing: true,
    dropInvalidHeaderFields: true,
  });
  alb.logAccessLogs(logs, 'alb');
  const listener = alb.addListener('Https', {
    port: 443,
    protocol: elbv2.ApplicationProtocol.HTTPS,
    certificates: [acm.Certificate.fromCertificateArn(scope, 'Certificate', p.certificateArn)],
    sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
  });
  listener.addTargets('Bot', {
    port: 3000,
    protocol: elbv2.ApplicationProtocol.HTTP,
    targets: [p.service],
    healthCheck: { path: '/healthz', healthyHttpCodes: '200', interval: Duration.seconds(15) },
    // SIGTERM: the task stops claiming work and finishes or releases its step; requests drain first.
    deregistrationDelay: Duration.seconds(30),
  });
  new CfnOutput(scope, 'SlackRequestUrl', {
    value: `https://${p.domainName}/slack/events`,
    description: 'Slack app: Slash Commands, Interactivity and Event Subscriptions request URL',
  });
  new CfnOutput(scope, 'LoadBalancerDnsName', {
    value: alb.loadBalancerDnsName,
    description: `Point ${p.domainName} here (a CNAME, or a Route 53 alias record)`,
  });
  NagSuppressions.addResourceSuppressions(logs, [
    { id: 'AwsSolutions-S1', reason: 'This is the access-log bucket itself; logging it to itself would loop' },
  ]);
  NagSuppressions.addResourceSuppressions(
    alb,
    [
      {
        id: 'AwsSolutions-EC23',
        reason:
          'Slack calls the request URL from addresses it does not publish; every request is signed with the signing secret and the bot refuses unsigned, stale or replayed ones',
      },
    ],
    true,
  );
}
