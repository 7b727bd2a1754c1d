/** Options of a step error: the underlying error (`cause`) and what a person should do (`advice`). */
export interface StepErrorOptions extends ErrorOptions {
  advice?: string;
}

/** A step failure that retrying will not fix (bad input, access denied). Fails the workflow. */
export class NonRetryableStepError extends Error {
  override name = 'NonRetryableStepError';
  readonly advice?: string;
  constructor(
    message: string,
    readonly code = 'step_failed',
    options?: StepErrorOptions,
  ) {
    super(message, options);
    this.advice = options?.advice;
  }
}

/** A transient step failure (throttling, 5xx, conflict). Retried with backoff up to the step's limit. */
export class RetryableStepError extends Error {
  override name = 'RetryableStepError';
  readonly advice?: string;
  constructor(
    message: string,
    readonly code = 'transient',
    readonly retryAfterMs?: number,
    options?: StepErrorOptions,
  ) {
    super(message, options);
    this.advice = options?.advice;
  }
}

/** A conditional write lost a race: somebody else changed the item first. */
export class ConflictError extends Error {
  override name = 'ConflictError';
  constructor(readonly runId: string) {
    super(`Workflow ${runId} was changed by someone else; re-read and try again`);
  }
}

/** Why a start is refused while `holderRunId` holds `lockKey`. */
export function lockHeldMessage(lockKey: string, holderRunId: string): string {
  const region = /:region:([a-z0-9-]+)$/.exec(lockKey)?.[1];
  return region
    ? `Another workflow (${holderRunId}) concerns ${region} and has not finished; wait for it, or cancel it (/idc cancel ${holderRunId})`
    : `Another workflow (${holderRunId}) is already changing this Identity Center instance; wait for it to finish or cancel it`;
}

/** Another add/remove workflow already holds the instance lock. */
export class LockHeldError extends Error {
  override name = 'LockHeldError';
  constructor(
    readonly lockKey: string,
    readonly holderRunId: string,
  ) {
    super(lockHeldMessage(lockKey, holderRunId));
  }
}

/** A workflow definition in workflows/ is invalid. The message names the file, the path and the fix. */
export class DefinitionError extends Error {
  override name = 'DefinitionError';
  constructor(readonly problems: string[]) {
    super(`Invalid workflow definition:\n  - ${problems.join('\n  - ')}`);
  }
}

/** Bad input to an engine call (unknown workflow, invalid inputs, unknown run). */
export class EngineInputError extends Error {
  override name = 'EngineInputError';
  constructor(
    message: string,
    readonly code = 'invalid_input',
  ) {
    super(message);
  }
}

/** What a person did to a run that was refused, with why. */
export class RunActionError extends EngineInputError {
  override name = 'RunActionError';
}

/** This runner no longer holds the run's lease (taken over, or not renewed in time): it must not act. */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
  constructor(
    readonly runId: string,
    why: string,
  ) {
    super(`Lost the lease on workflow ${runId} (${why}); another runner resumes it`);
  }
}

/** The store is busy (throttled); the same write may succeed a moment later. */
export class TransientStoreError extends Error {
  override name = 'TransientStoreError';
}
