import { decideApproval } from '../../src/engine/approval';
import { backoffDelay } from '../../src/engine/backoff';
import { formatDuration, parseDuration } from '../../src/engine/duration';
import { diffPlans, hashPlan } from '../../src/engine/plan-hash';
import { resolveTemplate } from '../../src/engine/template';
import { NonRetryableStepError, RetryableStepError, type StepState } from '../../src/engine';
import { mapAwsError } from '../../src/steps/lib/aws-errors';
import type { HealthSnapshot } from '../../src/health';
import { eventsBetween, nextState } from '../../src/watch';
import { parseCommand } from '../../src/slack/parse-command';
import { auditRows, toCsv } from '../../src/slack/audit-export';
import { perPersonBudget } from '../../src/slack/limiter';
import { signatureHeaders } from '../../src/slack/middleware/replay';

const gate = { approvers: ['admins'], minApprovals: 2, allowRequester: false, expiresAfter: '24h' };
const open: StepState = { status: 'awaiting_approval', attempt: 0, expiresAt: 1000, planHash: 'abc', decisions: [] };
const base = { now: 10, requester: 'UREQ', allowed: true, verdict: 'approve' as const };

describe('approval policy', () => {
  it.each([
    ['a first approval', open, { user: 'UA' }, 'recorded'],
    [
      'the Nth distinct approval',
      { ...open, decisions: [{ user: 'UA', verdict: 'approve' as const, at: 1 }] },
      { user: 'UB' },
      'opened',
    ],
    [
      'a second click by the same person',
      { ...open, decisions: [{ user: 'UA', verdict: 'approve' as const, at: 1 }] },
      { user: 'UA' },
      'duplicate',
    ],
    ['the requester approving', open, { user: 'UREQ' }, 'self_approval'],
    ['someone outside the approver roles', open, { user: 'UX', allowed: false }, 'not_allowed'],
    ['a click after expiry', open, { user: 'UA', now: 1000 }, 'expired'],
    ['a click on a closed gate', { ...open, status: 'succeeded' as const }, { user: 'UA' }, 'not_open'],
    ['a click on an old plan', open, { user: 'UA', planHash: 'old' }, 'stale_plan'],
    ['a rejection', open, { user: 'UA', verdict: 'reject' as const }, 'rejected'],
    ['the requester rejecting their own request', open, { user: 'UREQ', verdict: 'reject' as const }, 'rejected'],
  ])('%s → %s', (_, state, req, outcome) => {
    expect(decideApproval(gate, state, { ...base, ...req }).outcome).toBe(outcome);
  });

  it('lets the requester approve when the definition allows it', () => {
    expect(
      decideApproval({ ...gate, minApprovals: 1, allowRequester: true }, open, { ...base, user: 'UREQ' }).outcome,
    ).toBe('opened');
  });
});

describe('backoff', () => {
  it('doubles up to the cap, with jitter taking at most half', () => {
    const p = { baseMs: 1000, factor: 2, maxMs: 5000, jitter: 1 };
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(p, a, () => 0))).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(backoffDelay(p, 2, () => 0.999)).toBeGreaterThanOrEqual(1000);
    expect(backoffDelay(p, 2, () => 0.999)).toBeLessThan(2000);
  });
});

describe('durations', () => {
  it('parses and formats', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(() => parseDuration('2 hours')).toThrow('is not a duration');
    expect(formatDuration(125_000)).toBe('2m 05s');
    expect(formatDuration(850)).toBe('850ms');
  });
});

describe('templates', () => {
  const scope = {
    input: { region: 'eu-central-1', n: 3 },
    steps: { pre: { output: { key: { arn: 'arn:k' } } } },
    run: { id: 'r1', requester: 'U1' },
  };
  it('keeps the type of a whole reference and interpolates inside text', () => {
    expect(
      resolveTemplate(
        { a: '${input.n}', b: 'in ${input.region}: ${steps.pre.output.key.arn}', c: ['${run.id}'] },
        scope,
      ),
    ).toEqual({ a: 3, b: 'in eu-central-1: arn:k', c: ['r1'] });
  });
});

describe('plans', () => {
  it('hashes regardless of key order and lists what changed', () => {
    expect(hashPlan({ a: 1, b: 2 })).toBe(hashPlan({ b: 2, a: 1 }));
    expect(diffPlans({ changes: ['x'], key: 'k1' }, { changes: ['x', 'y'], key: 'k2' })).toEqual([
      '+ changes: y',
      '~ key: "k1" → "k2"',
    ]);
  });
});

describe('AWS error mapping', () => {
  const sdkError = (name: string, message: string, status = 400, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status }, ...extra });
  it.each([
    ['ThrottlingException', 400, true, /Rate exceeded/],
    ['InternalServerException', 500, true, /Rate exceeded/],
    ['ConflictException', 409, true, /Rate exceeded/],
    ['KMSInternalException', 500, true, /Rate exceeded/],
    ['SomethingNew', 503, true, /Rate exceeded/],
    ['ValidationException', 400, false, /What to do: check the request/],
    ['ServiceQuotaExceededException', 402, false, /request a quota increase in Service Quotas/],
    ['DisabledException', 400, false, /enable it \(kms:EnableKey\)/],
    ['UnsupportedOperationException', 400, false, /only a multi-Region primary key can be replicated/],
    ['ResourceNotFoundException', 404, false, /still exists/],
  ])('%s (%i) is %s retryable with a message that says what to do', (name, status, retryable, advice) => {
    const err = mapAwsError('sso:AddRegion', sdkError(name, 'Rate exceeded', status));
    expect(err).toBeInstanceOf(retryable ? RetryableStepError : NonRetryableStepError);
    expect(err.message).toMatch(/^sso:AddRegion: /);
    expect(err.message).toMatch(advice);
  });

  it('names the IAM action that AccessDenied names, or the one that was called', () => {
    const named = mapAwsError(
      'kms:CreateKey',
      sdkError('AccessDeniedException', 'User: x is not authorized to perform: kms:TagResource on resource', 400),
    );
    expect(named).toBeInstanceOf(NonRetryableStepError);
    expect(named.message).toContain('missing the IAM permission kms:TagResource');
    expect(mapAwsError('sso:AddRegion', sdkError('AccessDeniedException', 'Access denied', 403)).message).toContain(
      'missing the IAM permission sso:AddRegion',
    );
  });

  it('tells a KMS key-policy denial apart from a missing IAM permission', () => {
    const err = mapAwsError(
      'sso:AddRegion',
      sdkError('AccessDeniedException', 'denied', 400, { Reason: 'KMS_AccessDeniedException' }),
    );
    expect(err.message).toContain('(KMS_AccessDeniedException)');
    expect(err.message).toContain('apply the key policy from docs/key-policy.md');
  });

  it('retries connection failures', () => {
    expect(mapAwsError('kms:DescribeKey', new Error('connect ECONNREFUSED 127.0.0.1:1'))).toBeInstanceOf(
      RetryableStepError,
    );
  });
});

describe('watch findings', () => {
  const snap = (over: Partial<HealthSnapshot> = {}): HealthSnapshot => ({
    checkedAt: 0,
    instanceArn: 'arn:aws:sso:::instance/ssoins-1',
    primaryRegion: 'us-east-1',
    regions: [{ name: 'us-east-1', status: 'ACTIVE', primary: true }],
    encryption: {
      keyType: 'CUSTOMER_MANAGED_KEY',
      status: 'ENABLED',
      keyArn: 'arn:aws:kms:us-east-1:111122223333:key/mrk-1',
    },
    keys: [],
    calls: 0,
    ...over,
  });

  it('reports a key change and nothing on the first check', () => {
    expect(eventsBetween(undefined, snap())).toEqual([]);
    expect(
      eventsBetween(
        snap(),
        snap({
          encryption: {
            keyType: 'CUSTOMER_MANAGED_KEY',
            status: 'ENABLED',
            keyArn: 'arn:aws:kms:us-east-1:111122223333:key/mrk-2',
          },
        }),
      ),
    ).toEqual([
      "ℹ️ Identity Center's key changed: arn:aws:kms:us-east-1:111122223333:key/mrk-1 → arn:aws:kms:us-east-1:111122223333:key/mrk-2",
    ]);
  });

  it('times REMOVING from when the watcher first saw it (the API gives no date)', () => {
    const removing = snap({
      regions: [
        { name: 'us-east-1', status: 'ACTIVE', primary: true },
        { name: 'eu-west-1', status: 'REMOVING', primary: false },
      ],
    });
    const first = nextState(undefined, { snapshot: removing }, 1_000, 3_600_000);
    expect(first.conditions).toEqual({});
    const later = nextState(first, { snapshot: removing }, 1_000 + 3_600_001, 3_600_000);
    expect(Object.keys(later.conditions)).toEqual(['stuck:eu-west-1']);
    expect(later.outbox).toEqual([expect.stringMatching(/^🔴 eu-west-1 has been REMOVING for 60 min/)]);
  });
});

describe('/idc options, reason and ticket', () => {
  const options = {
    'remove-region': {
      'delete-replica-key': { input: 'deleteReplicaKey', type: 'boolean' as const },
      'deletion-window-days': { input: 'deletionWindowDays', type: 'integer' as const },
      ticket: { input: '', type: 'string' as const },
    },
  };
  const rules = { options, requireReason: true, ticketPattern: /^CHG[0-9]+$/ };

  it('reads flags, valued options (spaced or with =) and the ticket anywhere after the Region; the rest is the reason', () => {
    expect(
      parseCommand(
        'remove-region eu-west-1 --deletion-window-days=7 no longer --ticket CHG1 needed --delete-replica-key',
        undefined,
        rules,
      ),
    ).toEqual({
      ok: true,
      command: {
        name: 'remove-region',
        region: 'eu-west-1',
        reason: 'no longer needed',
        options: { deletionWindowDays: '7', deleteReplicaKey: true },
        ticket: 'CHG1',
      },
    });
    expect(parseCommand('remove-region eu-west-1 x --delete-replica-key=false', undefined, rules)).toMatchObject({
      command: { options: { deleteReplicaKey: 'false' } },
    });
  });

  it.each([
    ['remove-region eu-west-1', 'A change needs a reason'],
    [
      'remove-region eu-west-1 x --force',
      'Unknown option `--force` for `remove-region`; its options: `--delete-replica-key`',
    ],
    ['remove-region eu-west-1 x --deletion-window-days --delete-replica-key', '`--deletion-window-days` needs a value'],
    ['remove-region eu-west-1 x --ticket <!here>', 'is not a change ticket reference here'],
    [
      'add-region eu-west-1 x --delete-replica-key',
      'Unknown option `--delete-replica-key` for `add-region` (it takes none)',
    ],
  ])('refuses %s with what was wrong', (text, expected) => {
    const r = parseCommand(text, undefined, rules);
    expect(r.ok ? '' : r.error).toContain(expected);
  });

  it('answers help for one command', () => {
    expect(parseCommand('help remove-region')).toEqual({ ok: true, command: { name: 'help', topic: 'remove-region' } });
  });
});

describe('audit export', () => {
  it('quotes every CSV field and never lets one start a formula', () => {
    const run = {
      id: 'r1',
      workflowId: 'add-region',
      input: { region: 'eu-west-1' },
      requester: 'U1',
      reason: '=HYPERLINK("x")',
      ticket: '',
      status: 'succeeded',
    };
    const events = [{ runId: 'r1', seq: 1, at: 0, actor: 'U1', type: 'run_started', message: 'say "hi", then +1' }];
    const csv = toCsv(auditRows([{ run: run as never, events }]));
    expect(csv.split('\r\n')[1]).toBe(
      '"1970-01-01T00:00:00.000Z","r1","add-region","eu-west-1","U1","\'=HYPERLINK(""x"")","","succeeded","U1","run_started","","say ""hi"", then +1",""',
    );
  });
});

describe('per-person budget', () => {
  it('allows so many commands in any sliding minute, per person', () => {
    const at = jest.spyOn(Date, 'now');
    try {
      const budget = perPersonBudget(3);
      at.mockReturnValue(0);
      expect([1, 2, 3, 4].map(() => budget.take('UA'))).toEqual([true, true, true, false]);
      expect(budget.take('UB')).toBe(true); // another person has a budget of their own
      at.mockReturnValue(59_999);
      expect(budget.take('UA')).toBe(false); // still inside the minute
      at.mockReturnValue(60_000);
      expect([1, 2, 3, 4].map(() => budget.take('UA'))).toEqual([true, true, true, false]);
    } finally {
      at.mockRestore();
    }
  });
});

describe('signature headers', () => {
  it('are found whatever case a proxy gave their names', () => {
    const want = { slackSignature: 'v0=ab', slackTimestamp: '12' };
    expect(signatureHeaders({ 'x-slack-signature': 'v0=ab', 'x-slack-request-timestamp': '12' })).toEqual(want);
    expect(signatureHeaders({ 'X-Slack-Signature': 'v0=ab', 'X-Slack-Request-Timestamp': ['12'] })).toEqual(want);
    expect(signatureHeaders(undefined)).toEqual({ slackSignature: '', slackTimestamp: '' });
  });
});
