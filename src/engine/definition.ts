import { DefinitionError } from './errors';
import { z } from 'zod';
import { isDuration, parseDuration } from './duration';
import { findRefs } from './template';
import type { StepRegistry } from './step';

const Id = z.string().regex(/^[a-z][a-z0-9-]*$/, 'use lower-case kebab-case, e.g. "add-region"');
const Duration = z.string().refine(isDuration, 'write a duration such as 30s, 15m, 2h or 7d');
/** A duration of at least `min` (zero or tiny ones would poll or remind in a loop). */
const AtLeast = (min: string) =>
  Duration.refine((d) => !isDuration(d) || parseDuration(d) >= parseDuration(min), `must be at least ${min}`);
const Name = z
  .string()
  .regex(/^[a-z][a-z0-9-]*$/, 'use a kebab-case role name defined in IDC_ROLES, e.g. "identity-admins"');

const InputSpec = z
  .object({
    type: z.enum(['string', 'region', 'boolean', 'integer']),
    description: z.string().optional(),
    optional: z.boolean().default(false),
    default: z.union([z.string(), z.boolean(), z.number()]).optional(),
    maxLength: z.number().int().positive().optional(),
  })
  .strict();

const Common = {
  id: Id,
  title: z.string().min(1).max(120).optional(),
  when: z.string().optional(),
};

const ActionStep = z
  .object({
    ...Common,
    action: z.string().min(1),
    with: z.record(z.string(), z.unknown()).default({}),
    retry: z
      .object({ maxAttempts: z.number().int().min(1).max(50) })
      .strict()
      .optional(),
  })
  .strict();

const PollStep = z
  .object({
    ...Common,
    poll: z
      .object({
        check: z.string().min(1),
        with: z.record(z.string(), z.unknown()).default({}),
        until: z
          .object({ path: z.string().min(1), in: z.array(z.union([z.string(), z.boolean(), z.number()])).min(1) })
          .strict(),
        interval: AtLeast('1s').default('10s'),
        maxInterval: AtLeast('1s').default('60s'),
        timeout: AtLeast('1m').default('3h'),
      })
      .strict(),
  })
  .strict();

const ApprovalStep = z
  .object({
    ...Common,
    approval: z
      .object({
        approvers: z.array(Name).min(1),
        minApprovals: z.number().int().min(1).max(10).default(1),
        allowRequester: z.boolean().default(false),
        expiresAfter: AtLeast('1m').default('24h'),
        /** Remind the approvers (in the workflow's thread) this often while the gate is open. */
        remindEvery: AtLeast('1m').optional(),
        plan: Id.optional(),
        summary: z.string().optional(),
      })
      .strict(),
  })
  .strict();

const TaskStep = z
  .object({
    ...Common,
    task: z
      .object({
        title: z.string().min(1),
        instructions: z.string().min(1),
        /** What Done asserts (Slack's confirm dialog shows it; the audit records it). */
        confirm: z.string().min(1).optional(),
        assignees: z.array(Name).min(1),
        allowRequester: z.boolean().default(true),
        expiresAfter: AtLeast('1m').optional(),
      })
      .strict(),
  })
  .strict();

export const WorkflowDefinitionSchema = z
  .object({
    id: Id,
    version: z.number().int().min(1),
    title: z.string().min(1),
    description: z.string().optional(),
    mutates: z.boolean().default(true),
    lock: z.string().optional(),
    /**
     * Whose run this is, as a template (e.g. "${input.instance}": one of several Identity Center
     * instances): steps get it (StepContext.scope) and people's roles are looked up in it.
     */
    scope: z.string().optional(),
    /**
     * A narrower lock held for the whole run (e.g. the instance and the Region). With `after`, the
     * instance lock (`lock`) is given up once that step succeeds: the rest only waits for people or
     * reads, so another change may start, unless it concerns the same Region.
     */
    regionLock: z
      .object({ key: z.string().min(1), after: Id.optional() })
      .strict()
      .optional(),
    /**
     * Finish the run, successfully, as soon as `when` is true before a step starts (a plan with
     * nothing to change): the remaining steps are skipped, `summary` says why.
     */
    finishWhen: z
      .object({ when: z.string().min(1), summary: z.string().min(1) })
      .strict()
      .optional(),
    inputs: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, 'use camelCase input names'), InputSpec).default({}),
    steps: z.array(z.union([ActionStep, PollStep, ApprovalStep, TaskStep])).min(1),
  })
  .strict();

export type WorkflowDefinition = z.infer<typeof WorkflowDefinitionSchema>;
export type StepDefinition = WorkflowDefinition['steps'][number];
export type ActionStepDef = z.infer<typeof ActionStep>;
export type PollStepDef = z.infer<typeof PollStep>;
export type ApprovalStepDef = z.infer<typeof ApprovalStep>;
export type TaskStepDef = z.infer<typeof TaskStep>;
export type InputSpec = z.infer<typeof InputSpec>;

/** Which of the four step types a step is. */
export function stepType(step: StepDefinition): 'action' | 'poll' | 'approval' | 'task' {
  if ('action' in step) return 'action';
  if ('poll' in step) return 'poll';
  if ('approval' in step) return 'approval';
  return 'task';
}

function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
    '',
  );
}

export interface ValidateOptions {
  registry: StepRegistry;
  /** Role names the configuration defines; unknown approver/assignee names are refused when given. */
  roles?: ReadonlySet<string>;
}

/**
 * zod compiles a fast parser for an object schema on its first parse (about 10 ms for the
 * definitions' schemas), which pays off only for what is parsed again and again: a definition is
 * checked once per start.
 */
const ONCE = { jitless: true };

/**
 * Validates a parsed definition: its shape (zod), then what zod cannot see: unknown step kinds,
 * references to nothing or to later steps, duplicate step ids, mutating steps without an earlier
 * approval gate. Throws DefinitionError with every problem, prefixed by `source`.
 */
export function validateDefinition(raw: unknown, source: string, opts: ValidateOptions): WorkflowDefinition {
  const parsed = WorkflowDefinitionSchema.safeParse(raw, ONCE);
  if (!parsed.success) {
    throw new DefinitionError(
      parsed.error.issues.map((i) => `${source}: ${formatPath(i.path) || '(top level)'}: ${i.message}`),
    );
  }
  const def = parsed.data;
  const problems: string[] = [];
  const at = (path: string, msg: string) => problems.push(`${source}: ${path}: ${msg}`);
  const seen = new Map<string, number>();
  let gateSeen = false;

  const checkRefs = (value: unknown, path: string, earlier: string[]) => {
    const { refs, problems: bad } = findRefs(value);
    bad.forEach((b) => at(path, b));
    for (const ref of refs) {
      if (ref.kind === 'input' && !(ref.name in def.inputs)) {
        at(
          path,
          `\${${ref.expr}} refers to input "${ref.name}", which is not declared; declare it under inputs: or use one of: ${Object.keys(def.inputs).join(', ') || '(none)'}`,
        );
      }
      if (ref.kind === 'steps' && !earlier.includes(ref.name)) {
        at(
          path,
          `\${${ref.expr}} refers to step "${ref.name}", which is not an earlier step; use one of: ${earlier.join(', ') || '(none)'}`,
        );
      }
    }
  };
  checkRefs(def.lock, 'lock', []);
  checkRefs(def.scope, 'scope', []);
  if (def.finishWhen)
    checkRefs(
      def.finishWhen,
      'finishWhen',
      def.steps.map((st) => st.id),
    );
  if (def.regionLock) {
    checkRefs(def.regionLock.key, 'regionLock.key', []);
    const after = def.regionLock.after;
    const index = after === undefined ? -1 : def.steps.findIndex((st) => st.id === after);
    if (after !== undefined && index < 0)
      at('regionLock.after', `names no step ("${after}"); use a step id of this workflow`);
    else if (after !== undefined && !def.lock)
      at('regionLock.after', 'gives up the instance lock, but the workflow has no lock:');
    for (const st of index < 0 ? [] : def.steps.slice(index + 1)) {
      const kind = 'action' in st ? st.action : 'poll' in st ? st.poll.check : undefined;
      const k = kind ? opts.registry.get(kind) : undefined;
      if (k?.mutates && !k.outsideInstance)
        at(
          'regionLock.after',
          `step "${st.id}" (${kind}) changes AWS after "${after}", so the instance lock must be held until then; move "after" to a later step`,
        );
    }
  }

  def.steps.forEach((step, index) => {
    const path = `steps[${index}]`;
    const earlier = def.steps.slice(0, index).map((s) => s.id);
    if (seen.has(step.id))
      at(`${path}.id`, `duplicate step id "${step.id}" (also steps[${seen.get(step.id)}]); step ids must be unique`);
    seen.set(step.id, index);
    if (step.when !== undefined) checkRefs(step.when, `${path}.when`, earlier);
    const kindName = 'action' in step ? step.action : 'poll' in step ? step.poll.check : undefined;
    if (kindName !== undefined) {
      const kind = opts.registry.get(kindName);
      const field = 'action' in step ? 'action' : 'poll.check';
      if (!kind) {
        at(
          `${path}.${field}`,
          `unknown step kind "${kindName}"; registered kinds: ${[...opts.registry.keys()].sort().join(', ')}`,
        );
      } else if (kind.mutates && !gateSeen) {
        at(`${path}.${field}`, `"${kindName}" changes AWS resources, so an approval step must come before it`);
      } else if (kind.mutates && !def.mutates) {
        at(`${path}.${field}`, `"${kindName}" changes AWS resources, but the workflow says mutates: false`);
      }
    }
    if ('action' in step) checkRefs(step.with, `${path}.with`, earlier);
    if ('poll' in step) checkRefs(step.poll.with, `${path}.poll.with`, earlier);
    if ('approval' in step) {
      gateSeen = true;
      const plan = step.approval.plan;
      if (plan !== undefined && !earlier.includes(plan)) {
        at(
          `${path}.approval.plan`,
          `"${plan}" is not an earlier step; name the preflight step whose plan the approvers see`,
        );
      }
      if (step.approval.summary) checkRefs(step.approval.summary, `${path}.approval.summary`, earlier);
    }
    if ('task' in step) {
      checkRefs(step.task.instructions, `${path}.task.instructions`, earlier);
      checkRefs(step.task.title, `${path}.task.title`, earlier);
      if (step.task.confirm) checkRefs(step.task.confirm, `${path}.task.confirm`, earlier);
    }
    const names = 'approval' in step ? step.approval.approvers : 'task' in step ? step.task.assignees : [];
    for (const name of names) {
      if (opts.roles && !opts.roles.has(name)) {
        at(
          path,
          `role "${name}" is not defined in IDC_ROLES; define it there or use one of: ${[...opts.roles].join(', ') || '(none)'}`,
        );
      }
    }
    if ('poll' in step) {
      if (parseDuration(step.poll.maxInterval) < parseDuration(step.poll.interval)) {
        at(`${path}.poll.maxInterval`, 'must be at least poll.interval');
      }
    }
  });
  if (problems.length) throw new DefinitionError(problems);
  return def;
}
