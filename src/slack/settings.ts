import type { DrillResult, FailoverRehearsalView, PlanView, SignInPromptView, SignInView, StatusView } from './render';

export interface SlackSettings {
  token: string;
  signingSecret: string;
  /** App-level token (xapp-…): when set, the app connects over Socket Mode instead of HTTP. */
  appToken?: string;
  /** With Socket Mode, the port of the health route (HTTP serves it on the app's own port). */
  port?: number;
  apiUrl?: string;
  channel: string;
  notifyChannel?: string;
  roles: Record<string, string[]>;
  requesterRole: string;
  /** Region names /idc accepts (unknown ones are refused with a suggestion); any well-formed name when absent. */
  regions?: ReadonlySet<string>;
  /** How long to wait before re-sending a live message after Slack failed (default 5 s). */
  retryMs?: number;
  /** Changes within this many ms become one message update (default 1000). */
  coalesceMs?: number;
  /** Commands whose slow part (after the ack) may run at once (default 4); the rest queue. */
  backgroundConcurrency?: number;
  /** Input every workflow gets from the configuration (homeRegion, instanceArn, keyAlias…). */
  baseInput: Record<string, unknown>;
  /** Role allowed to run the read-only commands; when absent, any full member of the workspace (no guests). */
  viewerRole?: string;
  /** How approvers are asked when a gate opens: mentioned in the thread (default), or also by direct message. */
  notifyApprovers?: 'thread' | 'dm';
  /** Changes need a reason (IDC_REQUIRE_REASON; default here false, the configuration's default is true). */
  requireReason?: boolean;
  /** A change ticket reference must match this (IDC_TICKET_PATTERN). */
  ticketPattern?: RegExp;
  /** Commands that call AWS or start a workflow, per person per minute (default 20). */
  commandsPerMinute?: number;
}

/** Read-only questions the Slack layer asks without knowing AWS (wired in main.ts); it renders the answers. */
export interface Queries {
  status(): Promise<StatusView>;
  /** The status when it is at hand without any I/O (answered in the ack itself; refreshed behind it when ageing). */
  cachedStatus?(): StatusView | undefined;
  /** What adding the Region would change (preflight only). */
  plan(region: string): Promise<PlanView>;
  /** Checks replication now; alerts go to the notifications channel. */
  watchNow(): Promise<{ status: StatusView; sent: number }>;
  /** Read-only DR drill of one additional Region. */
  drill(region: string): Promise<DrillResult>;
  /**
   * Proves that `user` can sign in through the Region (the device authorization grant on its own
   * endpoints; `prompt` tells them where, only them); audited.
   */
  signIn(region: string, user: string, prompt: (p: SignInPromptView) => Promise<void>): Promise<SignInView>;
  /** What a failover to the Region would do (the IdP plan, the portal URL), read-only; audited. */
  rehearseFailover(region: string, user: string): Promise<FailoverRehearsalView>;
  /** The Regions the change form offers (add: allowed, enabled, not on the instance; remove: additional ones). */
  regionChoices(): Promise<{ add: string[]; remove: string[] }>;
}
