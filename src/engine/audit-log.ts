import type { EngineEvent, Logger } from './ports';
import type { AuditEvent, Run } from './run';

/** An audit event as a mutation writes it (the store adds the run id, sequence and time). */
export type Note = Omit<AuditEvent, 'runId' | 'seq' | 'at'> & { emit?: EngineEvent['type'] };

const WARN = new Set([
  'step_retrying',
  'poll_error',
  'plan_check_retry',
  'plan_changed',
  'lease_released',
  'step_late_result',
]);
const ERROR = new Set(['step_failed', 'plan_check_failed', 'run_failed', 'run_expired']);
const QUIET = new Set(['step_checkpoint']);

/**
 * One structured log line per audit event, with the fields on-call engineers query by (runId,
 * workflow, step, actor, event) and the AWS changes with their request ids; see README "Logs".
 */
export function logNote(logger: Logger | undefined, run: Run, n: Note, extra: Record<string, unknown> = {}): void {
  if (!logger) return;
  const data = (n.data ?? {}) as {
    awsRequests?: { action: string; region: string; requestId?: string; error?: string }[];
    code?: string;
  };
  const changes = (data.awsRequests ?? []).filter((r) => !/\.(Describe|Get|List)/.test(r.action));
  const step = n.stepId ? run.steps[n.stepId] : undefined;
  const fields = {
    event: n.type,
    runId: run.id,
    workflow: run.workflowId,
    ...(n.stepId ? { step: n.stepId, attempt: step?.attempt } : {}),
    actor: n.actor,
    ...(data.code ? { code: data.code } : {}),
    ...(step?.startedAt && step.finishedAt ? { durationMs: step.finishedAt - step.startedAt } : {}),
    ...(changes.length ? { aws: changes } : {}),
    ...extra,
  };
  if (ERROR.has(n.type)) logger.error(fields, n.message);
  else if (WARN.has(n.type)) logger.warn(fields, n.message);
  else if (QUIET.has(n.type) || n.type === 'step_waiting') logger.debug(fields, n.message);
  else logger.info(fields, n.message);
}
