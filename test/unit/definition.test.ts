import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load as parse } from 'js-yaml';
import { DefinitionError, loadWorkflows, parseWorkflow } from '../../src/engine';
import { TEST_WORKFLOW, testWorld } from '../support/test-kinds';

const { registry } = testWorld();
const problemsOf = (yaml: string, roles?: string[]) => {
  try {
    parseWorkflow(yaml, 'workflows/change-thing.yml', { registry, roles: roles ? new Set(roles) : undefined });
  } catch (err) {
    if (err instanceof DefinitionError) return err.problems;
    throw err;
  }
  return [];
};

describe('a directory of workflow definitions', () => {
  const dirWith = (files: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'defs-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };
  const json = JSON.stringify(parse(TEST_WORKFLOW));

  it('loads JSON (as the Lambda bundle ships them) to the same definition as YAML', () => {
    const files: Record<string, string>[] = [{ 'change-thing.yml': TEST_WORKFLOW }, { 'change-thing.json': json }];
    const [fromYaml, fromJson] = files.map((f) => {
      const dir = dirWith(f);
      try {
        return loadWorkflows(dir, { registry }).get('change-thing');
      } finally {
        rmSync(dir, { recursive: true });
      }
    });
    expect(fromJson).toEqual(fromYaml);
  });

  it('refuses the same id from two files, and broken JSON, naming the files', () => {
    const dir = dirWith({ 'change-thing.yml': TEST_WORKFLOW, 'change-thing.json': json, 'other.json': '{"id": ' });
    try {
      expect(() => loadWorkflows(dir, { registry })).toThrow(DefinitionError);
      const problems = (() => {
        try {
          loadWorkflows(dir, { registry });
        } catch (err) {
          return (err as DefinitionError).problems.join('\n');
        }
      })();
      expect(problems).toContain(`${join(dir, 'change-thing.yml')}: id: "change-thing" is defined by another file`);
      expect(problems).toContain(`${join(dir, 'other.json')}: JSON syntax:`);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe('workflow definitions', () => {
  it('accepts the test workflow', () => {
    expect(problemsOf(TEST_WORKFLOW)).toEqual([]);
  });

  it.each([
    [
      'an unknown step kind',
      TEST_WORKFLOW.replace('action: test.plan', 'action: test.nope'),
      'workflows/change-thing.yml: steps[0].action: unknown step kind "test.nope"; registered kinds: test.mutate, test.plan, test.status',
    ],
    [
      'a reference to nothing',
      TEST_WORKFLOW.replace('${steps.preflight.output.target}', '${steps.nope.output.x}'),
      'workflows/change-thing.yml: steps[2].with: ${steps.nope.output.x} refers to step "nope", which is not an earlier step; use one of: preflight, approve',
    ],
    [
      'a reference to a later step',
      TEST_WORKFLOW.replace('${steps.preflight.output.target}', '${steps.wait.output.status}'),
      'refers to step "wait", which is not an earlier step',
    ],
    [
      'an undeclared input',
      TEST_WORKFLOW.replace('target: "${input.target}" }', 'target: "${input.tgt}" }'),
      'steps[0].with: ${input.tgt} refers to input "tgt", which is not declared',
    ],
    [
      'a duplicate step id',
      TEST_WORKFLOW.replace('- id: wait', '- id: make'),
      'workflows/change-thing.yml: steps[3].id: duplicate step id "make" (also steps[2]); step ids must be unique',
    ],
    [
      'a malformed duration',
      TEST_WORKFLOW.replace('expiresAfter: 24h', 'expiresAfter: 24 hours'),
      'workflows/change-thing.yml: steps[1].approval.expiresAfter: write a duration such as 30s, 15m, 2h or 7d',
    ],
    [
      'a mutating step before any approval',
      TEST_WORKFLOW.replace(
        'action: test.plan',
        'action: test.mutate\n    with: { name: x }\n  - id: pre2\n    action: test.plan',
      ),
      'steps[0].action: "test.mutate" changes AWS resources, so an approval step must come before it',
    ],
    [
      'a malformed reference',
      TEST_WORKFLOW.replace('${input.target}" }', '${input target}" }'),
      'is not a reference; use ${input.<name>}',
    ],
    ['an unknown field', TEST_WORKFLOW.replace('retry: { maxAttempts: 3 }', 'retries: 3'), 'steps[2]'],
    [
      'a file name that differs from the id',
      TEST_WORKFLOW.replace('id: change-thing', 'id: other-thing'),
      'id: "other-thing" must equal the file name "change-thing"',
    ],
    ['broken YAML', 'id: [unclosed', 'workflows/change-thing.yml: YAML syntax'],
    [
      'giving up the instance lock before a step that changes AWS',
      TEST_WORKFLOW.replace('inputs:', 'regionLock: { key: "r:${input.target}", after: wait }\ninputs:'),
      'regionLock.after: step "optional" (test.mutate) changes AWS after "wait", so the instance lock must be held until then',
    ],
    [
      'giving up the instance lock after a step that does not exist',
      TEST_WORKFLOW.replace('inputs:', 'regionLock: { key: "r:${input.target}", after: nope }\ninputs:'),
      'regionLock.after: names no step ("nope")',
    ],
    [
      'finishing early on a reference to nothing',
      TEST_WORKFLOW.replace('inputs:', 'finishWhen: { when: "${steps.nope.output.x}", summary: done }\ninputs:'),
      'finishWhen: ${steps.nope.output.x} refers to step "nope"',
    ],
  ])('refuses %s with the file, the path and what to do', (_, yaml, expected) => {
    expect(problemsOf(yaml).join('\n')).toContain(expected);
  });

  it.each([
    [
      'remindEvery: 0s',
      TEST_WORKFLOW.replace('remindEvery: 8h', 'remindEvery: 0s'),
      'steps[1].approval.remindEvery: must be at least 1m',
    ],
    [
      'a zero poll interval',
      TEST_WORKFLOW.replace('interval: 10s', 'interval: 0s'),
      'steps[3].poll.interval: must be at least 1s',
    ],
    [
      'a gate expiring at once',
      TEST_WORKFLOW.replace('expiresAfter: 24h', 'expiresAfter: 5s'),
      'steps[1].approval.expiresAfter: must be at least 1m',
    ],
  ])('refuses durations too short to be meant (%s)', (_what, yaml, problem) => {
    expect(problemsOf(yaml).join('\n')).toContain(problem);
  });

  it('refuses approver roles the configuration does not define', () => {
    expect(problemsOf(TEST_WORKFLOW, ['ops']).join('\n')).toContain(
      'role "admins" is not defined in IDC_ROLES; define it there or use one of: ops',
    );
  });
});
