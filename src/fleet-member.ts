import type pino from 'pino';
import type { AwsClients } from './aws/clients';
import type { Config } from './config';
import type { InstanceConfig } from './config-file';
import { parseDuration, type Clock, type StepRegistry } from './engine';
import { readHealth } from './health';
import { createQueries } from './queries';
import { createNotifier, type FleetMember, type SlackSettings } from './slack/app';
import type { KeyPolicyOptions } from './steps';
import { createWatcher, type Watcher } from './watch';

export interface MemberDeps {
  config: Config;
  /** The Slack settings every instance shares (the token, the rules). */
  shared: Omit<SlackSettings, 'channel' | 'notifyChannel' | 'roles' | 'baseInput'>;
  slackClient: Parameters<typeof createNotifier>[0];
  stateStore: Parameters<typeof createWatcher>[0]['store'];
  clock: Clock;
  log: pino.Logger;
  /** More than one instance: alerts say which, and watchers keep apart. */
  several: boolean;
}

/**
 * One Identity Center instance's services: its watcher (on its own, so one failing instance never
 * holds back the others), its read-only answers and its Slack settings (channel, roles, inputs).
 */
export function createMember(
  {
    inst,
    clients,
    keyPolicy,
    registry: steps,
  }: { inst: InstanceConfig; clients: AwsClients; keyPolicy: KeyPolicyOptions; registry: StepRegistry },
  { config, shared, slackClient, stateStore, clock, log, several: fleetOf }: MemberDeps,
): FleetMember & { watcher: Watcher } {
  const baseInput = {
    instance: inst.name,
    homeRegion: inst.homeRegion,
    keyAlias: inst.keyAlias,
    ...(inst.instanceArn ? { instanceArn: inst.instanceArn } : {}),
    ...(inst.allowedRegions ? { allowedRegions: inst.allowedRegions } : {}),
  };
  const notifyChannel = inst.notifyChannel ?? inst.channel;
  const notify = createNotifier(slackClient, notifyChannel, inst.channel, log);
  const watcher = createWatcher({
    // The single instance keeps the name it had before there were several (its memory is kept).
    name: fleetOf ? `watch#${inst.name}#${inst.homeRegion}` : `watch#${inst.homeRegion}`,
    homeRegion: inst.homeRegion,
    read: () =>
      readHealth(clients, {
        homeRegion: inst.homeRegion,
        instanceArn: inst.instanceArn,
        now: () => clock.now(),
        keyPolicy,
      }),
    store: stateStore,
    // Findings carry AWS-derived text and placeholders such as --key-id <key>: escaped, never parsed as links.
    notify: fleetOf ? (text) => notify(`[${inst.name}] ${text}`) : notify,
    now: () => clock.now(),
    speed: () => clock.speed ?? 1,
    intervalMs: config.IDC_WATCH_INTERVAL === '0' ? 0 : parseDuration(config.IDC_WATCH_INTERVAL),
    stuckAfterMs: parseDuration(config.IDC_WATCH_STUCK_AFTER),
    logger: log.child({ instance: inst.name }),
  });
  const queries = createQueries({
    clients,
    watcher,
    steps: {
      preflight: steps.get('idc.preflight')!,
      idpPlan: steps.get('idp.plan-acs-urls')!,
      accessUrls: steps.get('idc.access-urls')!,
    },
    baseInput,
    clock,
    logger: log,
  });
  const settings: SlackSettings = {
    ...shared,
    channel: inst.channel,
    notifyChannel: inst.notifyChannel,
    roles: inst.roles,
    baseInput,
  };
  return { name: inst.name, settings, queries, watcher };
}
