import { randomBytes } from 'node:crypto';
import { logNote } from './audit-log';
import { scopeOf, type EngineCore } from './core';
import type { WorkflowDefinition } from './definition';
import { EngineInputError, LockHeldError } from './errors';
import { createHeldLocks, type HeldLock } from './held-locks';
import { validateInputs } from './inputs';
import type { Run } from './run';
import { resolveTemplate, type TemplateScope } from './template';

export interface StartRequest {
  workflowId: string;
  input: Record<string, unknown>;
  requester: string;
  reason?: string;
  /** A change ticket reference, shown and audited with the run. */
  ticket?: string;
  /** Idempotency key of the request (e.g. Slack's trigger id): a repeat returns the first run. */
  requestId?: string;
  meta?: Record<string, unknown>;
}

const newRunId = (now: number): string =>
  `${new Date(now).toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`;

/** Starting a run: its inputs checked, its locks taken with it (or the run holding them named). */
export function createStart(
  core: EngineCore,
  definitions: ReadonlyMap<string, WorkflowDefinition>,
  requireRun: (runId: string) => Promise<Run>,
) {
  const { store, clock } = core;
  /** The locks a run of `def` takes, from its scope (what `lock` and `regionLock` name). */
  const lockKeysOf = (def: WorkflowDefinition, scope: TemplateScope) => ({
    lockKey: def.lock ? String(resolveTemplate(def.lock, scope)) : undefined,
    regionLockKey: def.regionLock ? String(resolveTemplate(def.regionLock.key, scope)) : undefined,
  });

  const held = createHeldLocks(core);
  /** The lock keys of starts asked for before (heldNow), by workflow, requester and input. */
  const keysAsked = new Map<string, (string | undefined)[]>();

  return {
    /**
     * Why `start(req)` would be refused, when this process read its lock held a moment ago (no I/O;
     * the input is checked as start checks it). Undefined: not known, and start decides.
     */
    heldNow(req: Pick<StartRequest, 'workflowId' | 'input' | 'requester' | 'requestId'>): HeldLock | undefined {
      const def = definitions.get(req.workflowId);
      if (!def || (!def.lock && !def.regionLock)) return undefined;
      const asked = `${req.workflowId}\n${req.requester}\n${JSON.stringify(req.input)}`;
      let keys = keysAsked.get(asked);
      if (!keys) {
        try {
          const input = validateInputs(def, req.input);
          const k = lockKeysOf(def, { input, steps: {}, run: { id: '', requester: req.requester } });
          keys = [k.lockKey, k.regionLockKey];
        } catch {
          keys = []; // start says what is wrong
        }
        if (keysAsked.size >= 1_000) keysAsked.clear();
        keysAsked.set(asked, keys);
      }
      return held.refusal(keys, req.requestId);
    },
    /** Starts a workflow. Throws EngineInputError (bad input) or LockHeldError (instance busy). */
    async start(req: StartRequest): Promise<Run> {
      const def = definitions.get(req.workflowId);
      if (!def)
        throw new EngineInputError(
          `Unknown workflow "${req.workflowId}"; known: ${[...definitions.keys()].join(', ')}`,
          'unknown_workflow',
        );
      const input = validateInputs(def, req.input);
      const now = clock.now();
      const id = newRunId(now);
      const run: Run = {
        id,
        workflowId: def.id,
        workflowVersion: def.version,
        definition: def,
        status: 'running',
        input,
        requester: req.requester,
        ...(req.reason ? { reason: req.reason } : {}),
        ...(req.ticket ? { ticket: req.ticket } : {}),
        createdAt: now,
        updatedAt: now,
        version: 1,
        cursor: 0,
        steps: {},
        dueAt: now,
        meta: req.meta ?? {},
      };
      if (def.scope) run.scope = String(resolveTemplate(def.scope, scopeOf(run)));
      const { lockKey, regionLockKey } = lockKeysOf(def, scopeOf(run));
      const lockKeys = [lockKey, regionLockKey].filter((k): k is string => Boolean(k));
      if (lockKeys.length) {
        // A small read spares the whole write when another change holds a lock (people asking at the
        // same moment share it). The holder may be this very request's run, delivered again; a
        // repeat of a request whose run holds no lock any more is caught by the write itself.
        for (const key of lockKeys) {
          const holder = await store.liveLockHolder(key);
          held.remember(key, holder);
          if (!holder) continue;
          const repeat =
            req.requestId !== undefined &&
            (holder.requestId
              ? holder.requestId === req.requestId
              : (await store.requestRun(req.requestId)) === holder.runId); // a lock that does not say
          if (repeat) return requireRun(holder.runId);
          throw new LockHeldError(key, holder.runId);
        }
        if (lockKey) run.lockKey = lockKey;
        if (regionLockKey) run.regionLockKey = regionLockKey;
      }
      const message = `${def.title} requested by ${req.requester}${req.reason ? `: ${req.reason}` : ''}${req.ticket ? ` (ticket ${req.ticket})` : ''}`;
      const result = await store.create(
        run,
        [
          {
            runId: id,
            seq: 1,
            at: now,
            actor: req.requester,
            type: 'run_started',
            message,
            data: { input, ...(req.ticket ? { ticket: req.ticket } : {}) },
          },
        ],
        { lockKeys, requestId: req.requestId },
      );
      if (!result.created) return requireRun(result.runId);
      core.wake(now);
      logNote(
        core.opts.logger,
        run,
        { actor: req.requester, type: 'run_started', message },
        {
          input,
          triggerId: req.requestId,
          channel: req.meta?.channel,
        },
      );
      core.emit({ type: 'run_started', run, message });
      return run;
    },
  };
}
