import { runBench } from '../../dev/bench';

const value = (text: string, row: string) => Number(new RegExp(`\\| ${row} \\| ([\\d.]+)`).exec(text)?.[1]);

describe('npm run bench, at a tiny size', () => {
  it('runs the in-process sections and the counted targets hold', async () => {
    const text = await runBench({
      tiny: true,
      only: ['engine', 'polling', 'scale', 'idle', 'history'],
      dynamoEndpoint: process.env.TEST_DYNAMO_ENDPOINT,
      quiet: true,
    });
    expect(text).toContain('## Engine cost');
    expect(text).toContain('## Polling cost');
    expect(text).toContain('## Scale');
    // Counts, not times: they do not depend on the machine.
    expect(value(text, 'DynamoDB requests per transition')).toBeLessThanOrEqual(2);
    expect(value(text, 'Web API calls')).toBeLessThanOrEqual(value(text, 'target \\(steps \\+ 5\\)'));
    expect(value(text, '429 answers')).toBe(0);
    expect(value(text, 'AWS calls while waiting')).toBeLessThanOrEqual(120);
    expect(text).toMatch(/\| workflows finished \| 20 of 20/);
    expect(value(text, 'DynamoDB requests per idle hour')).toBeLessThanOrEqual(60);
    // Hundreds of finished workflows stored: each frequent read is one query and reads no more than its limit.
    for (const [row, limit] of [
      ['`/idc workflows` \\(the 10 most recent\\)', 10],
      ['Home tab \\(the 50 most recent, in-flight ones shown\\)', 50],
      ["the engine's due query", 0],
    ] as const) {
      const m = new RegExp(`\\| ${row} \\| ([\\d.]+) \\| ([\\d.]+) \\|`).exec(text);
      expect([row, Number(m?.[1]), Number(m?.[2]) <= limit]).toEqual([row, 1, true]);
    }
  }, 120_000);
});
