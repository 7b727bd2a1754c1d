import type { types } from '@slack/bolt';
import type { OptionSpec } from './subcommands/options';
import type { Command } from './subcommands/types';

/** The change form: `/idc add-region` or `/idc remove-region` without a Region opens it. */
export const CHANGE_FORM = { callbackId: 'change.form', region: 'region', reason: 'reason', ticket: 'ticket' } as const;

/** What the form carries from the command to its submission (private_metadata). */
export interface FormMeta {
  /** add-region or remove-region */
  sub: string;
  /** Where the command was typed (the answer goes there, to the person only). */
  channel: string;
  /** The Regions the form offered: a submitted Region must be one of them. */
  choices: string[];
  /** The Identity Center instance it was opened for. */
  instance?: string;
}

const TITLES: Record<string, string> = {
  'add-region': 'Add a Region',
  'remove-region': 'Remove a Region',
  failover: 'Fail over sign-in',
  failback: 'Fail back sign-in',
};
const plain = (text: string) => ({ type: 'plain_text' as const, text: text.slice(0, 150) });
const titleOf = (sub: string) => plain(TITLES[sub] ?? 'Identity Center');

/** A modal that only says something (loading, refused, nothing to choose). */
export const messageView = (sub: string, text: string): types.ModalView => ({
  type: 'modal',
  title: titleOf(sub),
  close: plain('Close'),
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 2900), verbatim: true } }],
});

/** One input block per workflow option (`--name` in the command). */
function optionBlock(name: string, o: OptionSpec): types.InputBlock {
  const label = plain(o.description ? `${name}: ${o.description}` : name);
  const hint = o.default !== undefined ? { hint: plain(`Default: ${String(o.default)}`) } : {};
  const element =
    o.type === 'boolean'
      ? {
          type: 'checkboxes' as const,
          action_id: name,
          options: [{ text: plain(`--${name}`), value: 'true' }],
          ...(o.default === true ? { initial_options: [{ text: plain(`--${name}`), value: 'true' }] } : {}),
        }
      : o.type === 'integer'
        ? {
            type: 'number_input' as const,
            action_id: name,
            is_decimal_allowed: false,
            ...(typeof o.default === 'number' ? { initial_value: String(o.default) } : {}),
          }
        : o.maxLength && o.maxLength > 200
          ? {
              type: 'plain_text_input' as const,
              action_id: name,
              multiline: true,
              max_length: Math.min(o.maxLength, 3000),
            }
          : { type: 'plain_text_input' as const, action_id: name };
  return { type: 'input', block_id: `opt:${name}`, optional: true, label, ...hint, element };
}

/** The form: a Region select (only what may be chosen now), the reason, the ticket, the workflow's options. */
export function changeFormView(p: {
  meta: FormMeta;
  options: Record<string, OptionSpec>;
  requireReason: boolean;
  ticketPattern?: RegExp;
}): types.ModalView {
  const { ticket, ...rest } = p.options;
  const blocks: types.KnownBlock[] = [
    {
      type: 'input',
      block_id: CHANGE_FORM.region,
      label: plain('Region'),
      element: {
        type: 'static_select',
        action_id: CHANGE_FORM.region,
        placeholder: plain('Choose a Region'),
        options: p.meta.choices.slice(0, 100).map((r) => ({ text: plain(r), value: r })),
      },
    },
    {
      type: 'input',
      block_id: CHANGE_FORM.reason,
      optional: !p.requireReason,
      label: plain('Reason'),
      hint: plain('The approvers and the audit trail see it.'),
      element: { type: 'plain_text_input', action_id: CHANGE_FORM.reason, multiline: true, max_length: 500 },
    },
  ];
  if (ticket)
    blocks.push({
      type: 'input',
      block_id: CHANGE_FORM.ticket,
      optional: true,
      label: plain('Change ticket'),
      ...(p.ticketPattern ? { hint: plain(`Must match ${p.ticketPattern.source}`) } : {}),
      element: { type: 'plain_text_input', action_id: CHANGE_FORM.ticket, max_length: 100 },
    });
  blocks.push(...Object.entries(rest).map(([name, o]) => optionBlock(name, o)));
  return {
    type: 'modal',
    callback_id: CHANGE_FORM.callbackId,
    title: titleOf(p.meta.sub),
    submit: plain('Plan and ask'),
    close: plain('Cancel'),
    private_metadata: JSON.stringify(p.meta),
    blocks,
  };
}

type StateValues = Record<
  string,
  Record<
    string,
    { value?: string | null; selected_option?: { value?: string } | null; selected_options?: { value?: string }[] }
  >
>;

/**
 * Reads a submitted form into the command the same words would have given, checked as the command
 * parser checks them; or the field errors Slack shows next to each field.
 */
export function readChangeForm(
  values: StateValues,
  meta: FormMeta,
  rules: {
    options: Record<string, OptionSpec>;
    requireReason: boolean;
    ticketPattern?: RegExp;
    clean: (s: string) => string;
  },
): { ok: true; command: Command } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const field = (block: string, action = block) => values[block]?.[action];
  const region = field(CHANGE_FORM.region)?.selected_option?.value ?? '';
  if (!meta.choices.includes(region)) errors[CHANGE_FORM.region] = 'Choose one of the Regions listed.';
  const reason = (field(CHANGE_FORM.reason)?.value ?? '').trim().slice(0, 500);
  if (rules.requireReason && reason.length < 3)
    errors[CHANGE_FORM.reason] = 'Say why in a few words; the approvers and the audit trail see it.';
  const ticket = rules.clean(field(CHANGE_FORM.ticket)?.value?.trim() ?? '').slice(0, 100);
  if (ticket && rules.ticketPattern && !rules.ticketPattern.test(ticket))
    errors[CHANGE_FORM.ticket] = `Not a change ticket reference here (it must match ${rules.ticketPattern.source}).`;
  const options: Record<string, string | boolean> = {};
  for (const [name, o] of Object.entries(rules.options)) {
    if (name === 'ticket') continue;
    const v = field(`opt:${name}`, name);
    if (o.type === 'boolean') {
      if (v?.selected_options?.some((s) => s.value === 'true')) options[o.input] = true;
    } else if (v?.value?.trim()) {
      const raw = v.value.trim();
      if (o.type === 'integer' && !/^-?\d+$/.test(raw)) errors[`opt:${name}`] = 'A whole number, please.';
      else options[o.input] = raw;
    }
  }
  if (Object.keys(errors).length) return { ok: false, errors };
  return {
    ok: true,
    command: {
      name: meta.sub,
      region,
      ...(reason ? { reason } : {}),
      ...(Object.keys(options).length ? { options } : {}),
      ...(ticket ? { ticket } : {}),
    },
  };
}
