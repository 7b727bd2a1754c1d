import { sessionName } from '../../src/aws/clients';
import { createRegistry, defineStep, type StepContext } from '../../src/engine';
import { createFleetRegistry } from '../../src/steps';
import { z } from 'zod';

// Each run's AWS calls go out in a role session that names the person who asked (CloudTrail shows it).

describe('role sessions per person', () => {
  it('names the instance and the person, within STS rules (2–64 of [\\w+=,.@-])', () => {
    expect(sessionName('prod')).toBe('idc-bot-prod');
    expect(sessionName('prod', 'U0123ABCD')).toBe('idc-bot-prod-U0123ABCD');
    expect(sessionName('prod', 'U 1/2')).toBe('idc-bot-prod-U-1-2');
    expect(sessionName('x'.repeat(80), 'U1')).toHaveLength(64);
  });

  it('runs each kind in the person’s session, keeps the last `keep` and closes the one it drops', async () => {
    const kindIn = (where: string) =>
      createRegistry([
        defineStep({
          kind: 'test.where',
          description: 'says which session it ran in',
          input: z.object({}),
          mutates: false,
          run: async () => ({ output: where }),
        }),
      ]);
    const closed: string[] = [];
    const fleet = createFleetRegistry(
      new Map([['prod', kindIn('prod')]]),
      (instance, person) => ({
        registry: kindIn(`${instance}/${person}`),
        destroy: () => closed.push(person),
      }),
      2,
    );
    const run = (requester?: string) =>
      fleet.registry
        .get('test.where')
        ?.run({}, { scope: 'prod', ...(requester ? { requester } : {}) } as StepContext)
        .then((r) => r.output);
    expect(await run('UA')).toBe('prod/UA');
    expect(await run()).toBe('prod'); // no one asked (e.g. an older run): the instance's own session
    expect(await run('UB')).toBe('prod/UB');
    expect(await run('UA')).toBe('prod/UA'); // kept: UA is now the most recent
    expect(await run('UC')).toBe('prod/UC'); // a third person: UB's session, the oldest, is closed
    expect(closed).toEqual(['UB']);
    fleet.destroy();
    expect(closed.sort()).toEqual(['UA', 'UB', 'UC']);
  });
});
