import type { AuditEvent, Run } from './run';

/** The engine's only view of time. */
export interface Clock {
  now(): number;
  /** Clock milliseconds per real millisecond (a sandbox's fast clock); timers are scaled by it. Default 1. */
  readonly speed?: number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Options for a state write. */
export interface WriteOptions {
  /** Release these locks in the same write (terminal states; the instance lock once a run only waits). */
  releaseLock?: string[];
  /** Take these locks in the same write (a retried run); LockHeldError if another run holds one. */
  acquireLock?: string[];
  /** The lease heartbeat read with the run: the write fails (ConflictError) if a renewal happened since. */
  expectedLeaseBeat?: number;
}

/** Options for creating a run. */
export interface CreateOptions {
  /** Acquire these locks in the same write; refused with LockHeldError if another run holds one. */
  lockKeys?: string[];
  /** Idempotency key of the request that created the run; a repeat returns the first run. */
  requestId?: string;
}

/** Who holds a lock: the run, and the request that started it (when the lock records it). */
export interface LockHolder {
  runId: string;
  requestId?: string;
}

/** Durable run storage. Every state change is a conditional write. */
export interface RunStore {
  /** Creates a run (and its lock and request id). Returns the existing run id if `requestId` was seen. */
  create(run: Run, events: AuditEvent[], opts: CreateOptions): Promise<{ created: boolean; runId: string }>;
  get(runId: string): Promise<Run | undefined>;
  /** Writes `run` (whose version is expectedVersion + 1) if the stored version is expectedVersion; else ConflictError. */
  update(run: Run, expectedVersion: number, events: AuditEvent[], opts?: WriteOptions): Promise<void>;
  /** Extends a lease held by `owner` and counts a heartbeat (leaseBeat + 1), without a version bump. False if the lease is no longer ours. */
  renewLease(runId: string, owner: string, leaseUntil: number): Promise<boolean>;
  /** Fails a run that cannot be read or advanced (a poison run): out of the due list, its lock freeable. */
  markBroken(runId: string, message: string): Promise<void>;
  /** Ids of runs whose dueAt <= now (oldest first). */
  listDue(now: number, limit: number): Promise<string[]>;
  /** Ids of runs due by `now` and, in the same read, the next due time after `now` (the loop sleeps until then). */
  dueWork(now: number, limit: number): Promise<{ due: string[]; next?: number }>;
  /** Most recent runs first. */
  listRecent(limit: number): Promise<Run[]>;
  events(runId: string): Promise<AuditEvent[]>;
  /** The run holding a lock, if any. */
  lockHolder(lockKey: string): Promise<string | undefined>;
  /**
   * The run holding a lock, freeing it when that run has ended: the check before a start (callers
   * asking at the same moment may share one read; the start's conditional write decides).
   */
  liveLockHolder(lockKey: string): Promise<LockHolder | undefined>;
  /** The run a request id already started (duplicate deliveries), if any. */
  requestRun(requestId: string): Promise<string | undefined>;
}

/** Who is in which role (approvers, task assignees). Implemented by the chat adapter. */
export interface Directory {
  /** Whether the person holds one of the roles; `scope`: the run's (roles may differ per scope). */
  isInRole(userId: string, roles: readonly string[], scope?: string): Promise<boolean>;
}

/** Something the engine did, for adapters to show (emitted after it was stored). */
export interface EngineEvent {
  type:
    | 'run_started'
    | 'step_started'
    | 'step_succeeded'
    | 'step_retrying'
    | 'step_waiting'
    | 'step_failed'
    | 'step_skipped'
    | 'approval_requested'
    | 'approval_reminder'
    | 'approval_recorded'
    | 'plan_changed'
    | 'task_requested'
    | 'task_confirmed'
    | 'run_finished';
  run: Run;
  stepId?: string;
  message: string;
}

export type EventListener = (event: EngineEvent) => void | Promise<void>;

/** Minimal structured logger (pino-compatible). */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}
