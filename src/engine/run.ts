import type { WorkflowDefinition } from './definition';

/** Workflow states. Stored lower_snake. */
export const RunStatus = {
  running: 'running',
  waiting: 'waiting',
  awaitingApproval: 'awaiting_approval',
  awaitingTask: 'awaiting_task',
  succeeded: 'succeeded',
  failed: 'failed',
  rejected: 'rejected',
  expired: 'expired',
  cancelled: 'cancelled',
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];

export const TERMINAL: ReadonlySet<RunStatus> = new Set(['succeeded', 'failed', 'rejected', 'expired', 'cancelled']);
export const isTerminal = (s: RunStatus): boolean => TERMINAL.has(s);

export type StepStatus =
  | 'pending'
  | 'running'
  | 'waiting'
  | 'awaiting_approval'
  | 'approved'
  | 'awaiting_task'
  | 'confirmed'
  | 'succeeded'
  | 'skipped'
  | 'failed'
  | 'rejected'
  | 'expired'
  | 'cancelled';

export interface Decision {
  user: string;
  verdict: 'approve' | 'reject';
  at: number;
  planHash?: string;
  reason?: string;
}

export interface StepError {
  message: string;
  code: string;
  retryable: boolean;
  at: number;
}

export interface StepState {
  status: StepStatus;
  attempt: number;
  startedAt?: number;
  finishedAt?: number;
  output?: unknown;
  summary?: string;
  details?: string[];
  checkpoint?: unknown;
  error?: StepError;
  /** Polls done (poll steps). */
  polls?: number;
  /** Last value a poll saw at `until.path`. */
  observed?: unknown;
  /** Approval gates and tasks */
  openedAt?: number;
  expiresAt?: number;
  /** Next reminder to the approvers (approval gates with remindEvery). */
  remindAt?: number;
  decisions?: Decision[];
  planHash?: string;
  confirmedBy?: string;
  /** Ephemeral per-gate counter: how many times the plan changed under this gate. */
  replans?: number;
  /** Irreversible calls this step announced before making them (fenced writes), with the try that made each. */
  intents?: { action: string; attempt: number; at: number }[];
  /** The attempt number when the run was last retried by a person: tries count from here for maxAttempts. */
  retryBase?: number;
}

/** One workflow run: everything the engine knows about it, in one item. */
export interface Run {
  id: string;
  workflowId: string;
  workflowVersion: number;
  /** Snapshot of the definition at start, so an edited workflows/ file never changes a run in flight. */
  definition: WorkflowDefinition;
  status: RunStatus;
  input: Record<string, unknown>;
  requester: string;
  reason?: string;
  /** A change ticket reference given with the request. */
  ticket?: string;
  createdAt: number;
  updatedAt: number;
  finishedAt?: number;
  /** Optimistic-concurrency version; every write increments it. */
  version: number;
  /** Index of the current step. */
  cursor: number;
  steps: Record<string, StepState>;
  /** When the engine should look at this run next; absent when nothing is due (terminal, or waiting for a person with no expiry). */
  dueAt?: number;
  leaseOwner?: string;
  /** The holder's own estimate of its lease end (its clock): a scheduling hint, never compared across hosts. */
  leaseUntil?: number;
  /** Heartbeats of the current lease: another runner takes over only after seeing it unchanged for a lease. */
  leaseBeat?: number;
  /** Whose run it is (the definition's `scope`, resolved at start): the roles and clients it uses. */
  scope?: string;
  /** The instance lock: held while the run may change AWS. */
  lockKey?: string;
  /** The Region lock: held for the whole run (an add and a remove of one Region never overlap). */
  regionLockKey?: string;
  error?: string;
  /** How a run that finished early ended (its definition's finishWhen summary). */
  outcome?: string;
  /** Opaque data for adapters (e.g. the Slack channel and message ts). */
  meta: Record<string, unknown>;
}

/** One entry of the append-only audit trail. */
export interface AuditEvent {
  runId: string;
  seq: number;
  at: number;
  actor: string;
  type: string;
  stepId?: string;
  message: string;
  data?: Record<string, unknown>;
}

/** The run has given up its instance lock: it passed its definition's `regionLock.after` step. */
export const instanceLockGivenUp = (run: Run): boolean => {
  const after = run.definition.regionLock?.after;
  return after !== undefined && run.steps[after]?.status === 'succeeded';
};

/** The locks a run holds now. */
export const heldLocks = (run: Run): string[] =>
  [instanceLockGivenUp(run) ? undefined : run.lockKey, run.regionLockKey].filter((k): k is string => Boolean(k));
