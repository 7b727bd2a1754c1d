import { renderDrill, renderFailoverRehearsal, renderSignIn, type SignInPromptView } from '../render';
import { defineSubcommand, regionOf } from './types';

/** The sign-in link and code, for the person only (an ephemeral): never in the channel. */
const promptText = (p: SignInPromptView) =>
  `🔐 Now sign in through *${p.region}* yourself: open <${p.verificationUriComplete}|this sign-in link>, check that it shows the code *${p.userCode}*, and sign in with your identity provider as usual. The bot waits up to ${Math.round(p.waitMs / 60_000)} min. Only you see this.`;

/** The task step of a workflow that a successful sign-in check completes (workflows/add-region.yml). */
const SIGN_IN_TASK = 'sign-in';

export const drill = defineSubcommand({
  name: 'drill',
  args: 'region',
  help: 'DR drill: can that Region serve sign-in on its own? (read-only, timed); `--sign-in`: and you sign in through it; `--failover`: rehearse a failover to it',
  flags: {
    failover:
      'rehearse a failover to the Region: what the bot would change in the IdP and tell users (nothing is changed)',
    'sign-in':
      'also prove that a person can sign in through the Region: you sign in when asked; the result goes to the channel',
  },
  run: async ({ queries, tell, user, client, settings, engine }, c) => {
    const region = regionOf(c);
    const drill = await queries.drill(region);
    let drilled = renderDrill(drill);
    const options = 'options' in c ? c.options : undefined;
    if (options?.failover)
      drilled += `\n\n${renderFailoverRehearsal(await queries.rehearseFailover(region, user), drill.passed)}`;
    if (!options?.signIn) return drilled;
    await tell?.(drilled);
    const result = await queries.signIn(region, user, async (p) => tell?.(promptText(p)));
    const line = renderSignIn(result, user);
    // Posted for everyone to see (who, which Region, how long, how many accounts), and audited.
    await client?.chat.postMessage({ channel: settings.channel, text: line }).catch(() => undefined);
    if (!result.ok) return line;
    // A workflow waiting for this proof (add-region --sign-in-check): the engine's task rules decide.
    const done: string[] = [];
    for (const run of await engine.listRecent(50)) {
      const step = run.definition.steps[run.cursor];
      if (run.status !== 'awaiting_task' || step?.id !== SIGN_IN_TASK || run.input.region !== region) continue;
      if ((await engine.confirmTask({ runId: run.id, user, stepId: SIGN_IN_TASK })).ok) done.push(`\`${run.id}\``);
    }
    return done.length ? `${line}\nThis completes the sign-in step of ${done.join(', ')}.` : line;
  },
});
