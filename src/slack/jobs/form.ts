import type { types } from '@slack/bolt';
import { esc } from '../blocks';
import { changeFormView, messageView } from '../change-form';
import type { ListenerContext } from '../listeners/context';
import type { SlowJob } from './types';

const NOTHING: Record<string, string> = {
  'add-region':
    'No Region can be added now: every allowed Region that the account has enabled is on the instance already (`/idc status`). Allowed Regions are set in IDC_ALLOWED_REGIONS; opt-in Regions must be enabled for the account first.',
  'remove-region': 'The instance has no additional Region to remove (`/idc status`).',
};

/**
 * Fills the change form opened as a placeholder: the requester role is checked first (a refused
 * person sees why, and it is audited), then the form offers only the Regions that may be chosen.
 */
export function createFormJob({ app, fleet, directory, logger, rules }: ListenerContext) {
  return async (job: Extract<SlowJob, { type: 'form' }>): Promise<void> => {
    const show = (view: types.ModalView) =>
      app.client.views
        .update({ view_id: job.viewId, view })
        .then(() => undefined)
        .catch((err: unknown) => logger.warn({ err }, 'views.update failed'));
    const picked = fleet.pick(job.channel, job.instance);
    if (!picked.ok) return show(messageView(job.sub, picked.message));
    const [member, ...more] = picked.members;
    if (!member || more.length)
      return show(
        messageView(
          job.sub,
          `This channel serves ${picked.members.map((m) => m.name).join(', ')}: type \`/idc ${job.sub} --instance <name>\`.`,
        ),
      );
    const { settings, queries } = member;
    if (!(await directory.isInRole(job.user, [settings.requesterRole], member.name))) {
      logger.warn({ audit: 'command_refused', user: job.user, command: job.sub }, 'change form refused');
      return show(
        messageView(
          job.sub,
          `Only members of the \`${settings.requesterRole}\` role may run \`/idc ${job.sub}\`. Ask an admin to add you to IDC_ROLES.`,
        ),
      );
    }
    let choices: string[];
    try {
      const all = await queries.regionChoices();
      // Adding offers Regions not on the instance; removing, failing over and back, its additional ones.
      choices = job.sub === 'add-region' ? all.add : all.remove;
    } catch (err) {
      logger.warn({ err }, 'change form: Region choices failed');
      return show(
        messageView(
          job.sub,
          `⚠️ ${esc((err as Error).message)}\nYou can still type \`/idc ${job.sub} <region> <reason>\`.`,
        ),
      );
    }
    if (!choices.length) return show(messageView(job.sub, NOTHING[job.sub] ?? 'Nothing to choose from.'));
    return show(
      changeFormView({
        meta: { sub: job.sub, channel: job.channel, choices, instance: member.name },
        options: rules.options?.[job.sub] ?? {},
        requireReason: rules.requireReason ?? false,
        ticketPattern: rules.ticketPattern,
      }),
    );
  };
}
