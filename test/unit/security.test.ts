import { Writable } from 'node:stream';
import { createLogger } from '../../src/log';
import { buildRunMessage } from '../../src/slack/blocks';
import type { Run } from '../../src/engine';

describe('the production logger', () => {
  it('redacts secrets by field name and wherever their values appear', () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        out += String(chunk);
        done();
      },
    });
    const log = createLogger('info', ['xoxb-real-token', 'signing-secret-value'], sink);
    log.info({ token: 'xoxb-real-token', nested: { signingSecret: 'signing-secret-value' } }, 'starting');
    log.warn('Slack said invalid_auth for xoxb-real-token');
    log.error({ err: new Error('request with signing-secret-value failed') }, 'boom');
    expect(out).not.toMatch(/xoxb-real-token|signing-secret-value/);
    expect(out.match(/\[secret\]/g)?.length).toBeGreaterThanOrEqual(4);
  });
});

describe('Block Kit text', () => {
  const run = {
    id: '20261126-abcdef',
    workflowId: 'add-region',
    workflowVersion: 1,
    definition: {
      id: 'add-region',
      version: 1,
      title: 'Add',
      steps: [
        { id: 'idp', task: { title: 'Tell the IdP', instructions: 'x', assignees: ['a'], allowRequester: true } },
      ],
      inputs: {},
      mutates: true,
    },
    status: 'awaiting_task',
    input: { region: 'eu-central-1' },
    requester: 'U1',
    reason: 'see https://evil.example #general',
    createdAt: 0,
    updatedAt: 0,
    version: 3,
    cursor: 0,
    steps: {
      idp: {
        status: 'awaiting_task',
        attempt: 0,
        output: {
          title: 'Tell the IdP',
          instructions: 'ACS https://eu-central-1.signin.aws/platform/saml/acs/<TenantId from the console>',
        },
      },
    },
    meta: {},
  } as unknown as Run;

  it('shows people and AWS text verbatim and escaped: no auto-links, no parsed angle brackets', () => {
    const { blocks } = buildRunMessage(run);
    const sections = blocks.filter((b) => b.type === 'section') as { text: { verbatim?: boolean; text: string } }[];
    expect(sections.length).toBeGreaterThan(1);
    for (const s of sections) expect(s.text.verbatim).toBe(true);
    const all = JSON.stringify(blocks);
    expect(all).toContain('&lt;TenantId from the console&gt;');
    expect(all).not.toContain('<TenantId');
  });
});
