import type {
  App,
  Middleware,
  SlackActionMiddlewareArgs,
  SlackCommandMiddlewareArgs,
  SlackEventMiddlewareArgs,
  SlackViewMiddlewareArgs,
} from '@slack/bolt';

/**
 * The bot's listeners, one per file, each for one command, action id, view or event, registered with
 * Bolt as one listener per kind of request: Bolt runs every listener's own middleware for every
 * request it receives, so seven listeners cost seven chains per request, and these four.
 */
export function createRouter() {
  const commands = new Map<string, Middleware<SlackCommandMiddlewareArgs>>();
  const actions = new Map<string, Middleware<SlackActionMiddlewareArgs>>();
  const views = new Map<string, Middleware<SlackViewMiddlewareArgs>>();
  const events = new Map<string, Middleware<SlackEventMiddlewareArgs>>();
  return {
    command: (name: string, listener: Middleware<SlackCommandMiddlewareArgs>) => void commands.set(name, listener),
    action: (actionId: string, listener: Middleware<SlackActionMiddlewareArgs>) => void actions.set(actionId, listener),
    view: (callbackId: string, listener: Middleware<SlackViewMiddlewareArgs>) => void views.set(callbackId, listener),
    event: <E extends string>(type: E, listener: Middleware<SlackEventMiddlewareArgs<E>>) =>
      void events.set(type, listener as unknown as Middleware<SlackEventMiddlewareArgs>),
    /** Registers one Bolt listener per kind that has listeners; each hands the request to its own. */
    mount(app: App): void {
      if (commands.size) app.command(/./, async (args) => commands.get(args.command.command)?.(args));
      if (actions.size)
        app.action(/./, async (args) => {
          const id = 'action_id' in args.action ? args.action.action_id : undefined;
          await (id === undefined ? undefined : actions.get(id)?.(args));
        });
      if (views.size) app.view(/./, async (args) => views.get(args.view.callback_id)?.(args));
      if (events.size) app.event(/./, async (args) => events.get(args.event.type)?.(args));
    },
  };
}

export type Router = ReturnType<typeof createRouter>;
