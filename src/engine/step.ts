import type { z } from 'zod';

/** What a step kind receives besides its input. */
export interface StepContext {
  runId: string;
  stepId: string;
  /** The run's scope (its Identity Center instance, in a fleet): step kinds pick their clients by it. */
  scope?: string;
  /** Who asked for the run (the AWS role session carries it, so CloudTrail names them). */
  requester?: string;
  /** `${runId}#${stepId}`: stable across retries and resumes; tag what you create with it. */
  idempotencyKey: string;
  /** 1 on the first try; higher after a failure, a resume of an abandoned try or a retry (never reset). */
  attempt: number;
  /** Output recorded by an earlier try of this step (see `checkpoint`), if any. */
  checkpoint: unknown;
  /** Persists intermediate progress (e.g. "CreateKey returned key X") before the step goes on. */
  saveCheckpoint(data: unknown): Promise<void>;
  now(): number;
  log(message: string, data?: Record<string, unknown>): void;
  /** Aborted when this try must stop: the lease was lost or the step's deadline passed. Pass it to SDK calls. */
  signal: AbortSignal;
  /**
   * Call right before an irreversible call (CreateKey, AddRegion…): records the intent in a write
   * fenced by this try's lease, and throws (LeaseLostError) when another runner has taken over, so
   * a stale try never acts. Read-only steps and reads need not call it.
   */
  fence(action: string): Promise<void>;
}

/** What a step run returns: the output stored under the step id, and lines for people. */
export interface StepResult<O> {
  output: O;
  /** One line for the live message, e.g. "Created key mrk-… in us-east-1". */
  summary?: string;
  /** Longer details for the thread. */
  details?: string[];
  /** Recorded with the step's audit event (e.g. the AWS request ids), not stored in the run. */
  audit?: Record<string, unknown>;
}

/** One kind of step (one AWS thing). Registered by `kind` and named by workflows/*.yml. */
export interface StepKind<I = unknown, O = unknown> {
  kind: string;
  description: string;
  /** Does it change anything? Mutating kinds must come after an approval gate. */
  mutates: boolean;
  /**
   * What it changes is outside the instance (an IdP's app): its own gate covers it, and the
   * instance lock (`regionLock.after`) does not need to.
   */
  outsideInstance?: boolean;
  input: z.ZodType<I>;
  /** How long one try may take before it is abandoned and retried (default: the engine's stepTimeoutMs). */
  timeoutMs?: number;
  run(input: I, ctx: StepContext): Promise<StepResult<O>>;
}

/** Declares a step kind with a typed input. */
export function defineStep<I>(kind: StepKind<I, unknown>): StepKind<I, unknown> {
  return kind;
}

/** A step kind of any input and output (a heterogeneous registry: each kind validates its own input). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export type AnyStepKind = StepKind<any, any>;

/** Step kinds by name. */
export type StepRegistry = ReadonlyMap<string, AnyStepKind>;

/** Builds a registry from a list of kinds, refusing duplicates. */
export function createRegistry(kinds: AnyStepKind[]): StepRegistry {
  const map = new Map<string, AnyStepKind>();
  for (const k of kinds) {
    if (map.has(k.kind)) throw new Error(`Step kind ${k.kind} is registered twice`);
    map.set(k.kind, k);
  }
  return map;
}

/** A context for running a read-only kind outside any workflow (e.g. `/idc plan`): no progress is saved. */
export function detachedContext(over: Partial<StepContext> = {}): StepContext {
  return {
    runId: 'detached',
    stepId: 'detached',
    idempotencyKey: 'detached',
    attempt: 1,
    checkpoint: undefined,
    saveCheckpoint: async () => undefined,
    now: () => Date.now(),
    log: () => undefined,
    signal: new AbortController().signal,
    fence: async () => undefined,
    ...over,
  };
}
