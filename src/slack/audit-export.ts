import type { AuditEvent, Run } from '../engine';

/** One row per audit event, with what change management asks: who, what, when, approvals, AWS request ids. */
export interface AuditRow {
  at: string;
  runId: string;
  workflow: string;
  region: string;
  requester: string;
  reason: string;
  ticket: string;
  status: string;
  actor: string;
  event: string;
  step: string;
  message: string;
  awsRequests: string;
}

const COLUMNS: (keyof AuditRow)[] = [
  'at',
  'runId',
  'workflow',
  'region',
  'requester',
  'reason',
  'ticket',
  'status',
  'actor',
  'event',
  'step',
  'message',
  'awsRequests',
];

export function auditRows(runs: { run: Run; events: AuditEvent[] }[]): AuditRow[] {
  return runs.flatMap(({ run, events }) =>
    events.map((e) => {
      const requests =
        (e.data as { awsRequests?: { action: string; region?: string; requestId?: string }[] } | undefined)
          ?.awsRequests ?? [];
      return {
        at: new Date(e.at).toISOString(),
        runId: run.id,
        workflow: run.workflowId,
        region: typeof run.input.region === 'string' ? run.input.region : '',
        requester: run.requester,
        reason: run.reason ?? '',
        ticket: run.ticket ?? '',
        status: run.status,
        actor: e.actor,
        event: e.type,
        step: e.stepId ?? '',
        message: e.message,
        awsRequests: requests
          .map((r) => `${r.action}${r.region ? `@${r.region}` : ''} ${r.requestId ?? '?'}`)
          .join('; '),
      };
    }),
  );
}

/** A CSV field: quoted, and never read as a formula by a spreadsheet (=, +, -, @ and control characters first). */
const csvField = (v: string) => `"${(/^[=+\-@\t\r]/.test(v) ? `'${v}` : v).replace(/"/g, '""')}"`;

export function toCsv(rows: AuditRow[]): string {
  return [COLUMNS.join(','), ...rows.map((r) => COLUMNS.map((c) => csvField(r[c])).join(','))].join('\r\n') + '\r\n';
}
