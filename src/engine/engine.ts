import { createCommands, type DecisionRequest, type DecisionResult } from './commands';
import { createCore, type EngineOptions } from './core';
import type { WorkflowDefinition } from './definition';
import type { HeldLock } from './held-locks';
import type { EventListener } from './ports';
import type { AuditEvent, Run } from './run';
import { advance, createScheduler } from './scheduler';
import type { StartRequest } from './start';

export type { EngineOptions } from './core';
export type { DecisionRequest, DecisionResult } from './commands';
export type { StartRequest } from './start';

/** The workflow engine: what adapters (Slack, Lambda, the CLI) may do with it. */
export interface Engine {
  /** This process's runner id (lease owner). */
  readonly owner: string;
  readonly definitions: ReadonlyMap<string, WorkflowDefinition>;
  /** Subscribes to what the engine does (after each change is stored). */
  on(listener: EventListener): void;
  /** Starts a workflow. Throws EngineInputError (bad input) or LockHeldError (instance busy). */
  start(req: StartRequest): Promise<Run>;
  /** Why `start(req)` would be refused, if this process saw its lock held a moment ago (no I/O). */
  heldNow(req: Pick<StartRequest, 'workflowId' | 'input' | 'requester' | 'requestId'>): HeldLock | undefined;
  /** Records an approval or rejection on the run's open gate. Never throws for a refused click. */
  decide(req: DecisionRequest): Promise<DecisionResult>;
  /** A person confirms the run's open human task. */
  confirmTask(req: {
    runId: string;
    user: string;
    stepId?: string;
  }): Promise<{ ok: boolean; message: string; run?: Run }>;
  /** What the run waits for from `user` now (their approval or their task), by the same rules; records nothing. */
  waitingFor(run: Run, user: string): Promise<'gate' | 'task' | undefined>;
  /** Cancels a run that has not finished. */
  cancel(req: { runId: string; user: string; reason?: string }): Promise<Run>;
  /** Retries a failed run from the step that failed. */
  retry(req: { runId: string; user: string }): Promise<Run>;
  /** Stores adapter data on the run (e.g. the Slack message ts). */
  setMeta(runId: string, patch: Record<string, unknown>): Promise<Run | undefined>;
  get(runId: string): Promise<Run | undefined>;
  listRecent(limit?: number): Promise<Run[]>;
  events(runId: string): Promise<AuditEvent[]>;
  lockHolder(lockKey: string): Promise<string | undefined>;
  /** Advances one run now. */
  advance(runId: string): Promise<void>;
  /** Does all the work that is due now. Returns how many runs it looked at. */
  tick(limit?: number): Promise<number>;
  /** Ticks every `intervalMs` until `stop()`. */
  startLoop(intervalMs?: number): void;
  /** Waits until no work is in progress (the loop, if any, keeps going). */
  idle(): Promise<void>;
  /** Stops claiming work, waits for steps in progress up to `deadlineMs` (default 30 s), then releases their leases. */
  stop(deadlineMs?: number): Promise<void>;
}

/**
 * Creates the workflow engine: start runs, record decisions, and do the due work (`tick`).
 * It knows nothing about Slack, AWS or DynamoDB: it works through its ports.
 *
 * @example
 * const engine = createEngine({ store, registry, definitions, directory, owner: 'bot-1' });
 * const run = await engine.start({ workflowId: 'add-region', input: { region: 'eu-central-1' }, requester: 'U1' });
 * await engine.tick();
 */
export function createEngine(opts: EngineOptions): Engine {
  const core = createCore(opts);
  const { store } = core;
  const scheduler = createScheduler(core);
  return {
    owner: core.owner,
    definitions: opts.definitions,
    on: (listener) => void core.listeners.push(listener),
    ...createCommands(core, opts.definitions),
    get: (runId) => store.get(runId),
    listRecent: (limit = 20) => store.listRecent(limit),
    events: (runId) => store.events(runId),
    lockHolder: (lockKey) => store.lockHolder(lockKey),
    advance: (runId) => core.track(advance(core, runId)),
    ...scheduler,
  };
}
