import type { ListenerContext } from '../context';

/** The person opened the bot's Home tab: it is published for them after the ack (jobs/home.ts). */
export function registerAppHomeOpened({ listen, dispatch, logger }: ListenerContext): void {
  listen.event('app_home_opened', async ({ event }) => {
    if (event.tab !== 'home') return;
    await dispatch({ type: 'home', user: event.user, triggerId: `home:${event.user}:${event.event_ts}` }).catch(
      (err: unknown) => logger.error({ err }, 'could not hand the Home tab on'),
    );
  });
}
