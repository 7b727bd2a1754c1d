import { z } from 'zod';
import { createRegistry, defineStep, NonRetryableStepError, RetryableStepError } from '../../src/engine';

/** A small world that test step kinds act on, so tests can count side effects. */
export function testWorld() {
  const world = {
    plan: { changes: ['create thing'] } as unknown,
    status: 'PENDING',
    /** side effects actually performed, by idempotency key */
    created: new Map<string, number>(),
    calls: 0,
    sideEffects: 0,
    failures: [] as Array<'retryable' | 'fatal'>,
    /** when set, mutate waits for this promise (a step "in the middle") */
    block: undefined as Promise<void> | undefined,
    /** ctx.attempt of every test.mutate try, in order */
    attempts: [] as number[],
    /** how long test.mutate's output is (to test results too big to store) */
    outputPadding: 0,
  };
  const registry = createRegistry([
    defineStep({
      kind: 'test.plan',
      description: 'read-only preflight',
      mutates: false,
      input: z.object({ target: z.string() }),
      async run(input) {
        return { output: { target: input.target, plan: world.plan }, summary: `plan for ${input.target}` };
      },
    }),
    defineStep({
      kind: 'test.mutate',
      description: 'idempotent side effect',
      mutates: true,
      input: z.object({ name: z.string() }),
      async run(input, ctx) {
        world.calls++;
        world.attempts.push(ctx.attempt);
        if (world.block) await world.block;
        const failure = world.failures.shift();
        if (failure === 'retryable') throw new RetryableStepError('throttled', 'ThrottlingException');
        if (failure === 'fatal')
          throw new NonRetryableStepError('access denied: missing kms:CreateKey', 'AccessDeniedException');
        // Check first, then act: a re-run after a crash finds what the first try made.
        // Fenced like the real mutating kinds: a try that lost its lease stops here.
        await ctx.fence('test:Make');
        if (!world.created.has(ctx.idempotencyKey)) {
          world.created.set(ctx.idempotencyKey, 1);
          world.sideEffects++;
        }
        const pad = world.outputPadding ? { pad: 'x'.repeat(world.outputPadding) } : {};
        return { output: { name: input.name, id: `thing-${input.name}`, ...pad }, summary: `made ${input.name}` };
      },
    }),
    defineStep({
      kind: 'test.status',
      description: 'read a status',
      mutates: false,
      input: z.object({}),
      async run() {
        return { output: { status: world.status }, summary: `status ${world.status}` };
      },
    }),
  ]);
  return { world, registry };
}

export const TEST_WORKFLOW = `
id: change-thing
version: 1
title: Change a thing
lock: "\${input.target}"
inputs:
  target: { type: string }
  reason: { type: string, optional: true }
  extra: { type: boolean, default: false }
steps:
  - id: preflight
    action: test.plan
    with: { target: "\${input.target}" }
  - id: approve
    approval: { approvers: [admins], minApprovals: 2, expiresAfter: 24h, remindEvery: 8h, plan: preflight }
  - id: make
    title: Make the thing
    action: test.mutate
    with: { name: "\${steps.preflight.output.target}" }
    retry: { maxAttempts: 3 }
  - id: wait
    poll: { check: test.status, until: { path: status, in: [READY] }, interval: 10s, maxInterval: 60s, timeout: 2h }
  - id: tell-idp
    task: { title: "Tell the IdP about \${steps.make.output.id}", instructions: "Add \${steps.make.output.id}", assignees: [admins] }
  - id: optional
    when: "\${input.extra}"
    action: test.mutate
    with: { name: extra }
`;
