/** The engine's public surface: everything outside src/engine imports from here. */
export {
  createEngine,
  type Engine,
  type EngineOptions,
  type DecisionResult,
  type DecisionRequest,
  type StartRequest,
} from './engine';
export {
  defineStep,
  detachedContext,
  createRegistry,
  type StepKind,
  type AnyStepKind,
  type StepContext,
  type StepResult,
  type StepRegistry,
} from './step';
export {
  NonRetryableStepError,
  RetryableStepError,
  ConflictError,
  LockHeldError,
  DefinitionError,
  EngineInputError,
  RunActionError,
  LeaseLostError,
  TransientStoreError,
} from './errors';
export { loadWorkflows, parseWorkflow } from './load-workflows';
export {
  stepType,
  type WorkflowDefinition,
  type StepDefinition,
  type ApprovalStepDef,
  type TaskStepDef,
} from './definition';
export {
  systemClock,
  type Clock,
  type RunStore,
  type LockHolder,
  type Directory,
  type EngineEvent,
  type Logger,
  type WriteOptions,
  type CreateOptions,
} from './ports';
export { RunStatus, TERMINAL, isTerminal, type Run, type StepState, type AuditEvent, type Decision } from './run';
export { formatDuration, parseDuration } from './duration';
export { REGION_PATTERN } from './inputs';
export { hashPlan, planOf } from './plan-hash';
export { backoffDelay, type BackoffPolicy } from './backoff';
