import type { Queries, SlackSettings } from './settings';

/** One Identity Center instance as the Slack side sees it: its channel, roles, inputs and answers. */
export interface FleetMember {
  name: string;
  /** The bot's settings with this instance's channel, notifications channel, roles and inputs. */
  settings: SlackSettings;
  queries: Queries;
}

export type Pick = { ok: true; members: FleetMember[] } | { ok: false; message: string };

/** The instances the bot serves, and which one a command typed in a channel is about. */
export interface Fleet {
  members: readonly FleetMember[];
  /**
   * The instance(s) a command in `channel` is about: `--instance <name>` when given (it must serve
   * that channel), else the channel's own (several when the channel serves several).
   */
  pick(channel: string, name?: string): Pick;
  /** The instance a run belongs to (its scope); runs from before scopes belong to "default". */
  of(scope: string | undefined): FleetMember | undefined;
}

/** `--instance <name>` taken out of a command's text (every subcommand accepts it). */
export function takeInstance(text: string): { text: string; instance?: string } {
  const m = /(?:^|\s)--instance(?:=|\s+)(\S*)/.exec(text);
  if (!m) return { text };
  return { text: `${text.slice(0, m.index)} ${text.slice(m.index + m[0].length)}`.trim(), instance: m[1] ?? '' };
}

export function createFleet(members: FleetMember[]): Fleet {
  const byName = new Map(members.map((m) => [m.name, m]));
  const list = (ms: readonly FleetMember[]) => ms.map((m) => `${m.name} (<#${m.settings.channel}>)`).join(', ');
  return {
    members,
    of: (scope) => (members.length === 1 ? members[0] : byName.get(scope ?? 'default')),
    pick(channel, name) {
      // One instance: every channel the bot is in acts on it (as before there were several).
      if (members.length === 1 && !name) return { ok: true, members };
      const here = members.filter((m) => m.settings.channel === channel);
      if (name !== undefined) {
        const m = byName.get(name);
        if (!m) return { ok: false, message: `There is no instance "${name}"; the bot serves ${list(members)}.` };
        if (members.length > 1 && m.settings.channel !== channel)
          return {
            ok: false,
            message: `The instance ${name} is run from <#${m.settings.channel}>, not from this channel: type the command there${here.length ? `, or use this channel's ${list(here)}` : ''}.`,
          };
        return { ok: true, members: [m] };
      }
      if (!here.length)
        return {
          ok: false,
          message: `This channel serves no Identity Center instance. The bot serves ${list(members)}: type the command in its channel.`,
        };
      return { ok: true, members: here };
    },
  };
}
