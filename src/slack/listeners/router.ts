import type {
  AllMiddlewareArgs,
  AnyMiddlewareArgs,
  App,
  Middleware,
  SlackActionMiddlewareArgs,
  SlackCommandMiddlewareArgs,
  SlackEventMiddlewareArgs,
  SlackViewMiddlewareArgs,
} from '@slack/bolt';

type Args = AnyMiddlewareArgs & AllMiddlewareArgs;

/**
 * The bot's listeners, one per file, each for one command, action id, view or event, handed their
 * requests by one Bolt middleware, the last of the app's: Bolt runs the whole chain of every
 * listener registered with it for every request (seven listeners: seven chains a request), this
 * looks the one listener up. An interaction none of them takes (an action id or a view that is not
 * ours, a malformed payload) is acked at once and changes nothing.
 */
export function createRouter() {
  const commands = new Map<string, Middleware<SlackCommandMiddlewareArgs>>();
  const actions = new Map<string, Middleware<SlackActionMiddlewareArgs>>();
  const views = new Map<string, Middleware<SlackViewMiddlewareArgs>>();
  const events = new Map<string, Middleware<SlackEventMiddlewareArgs>>();
  const route = async (args: Args): Promise<void> => {
    if ('command' in args && args.command) return commands.get(args.command.command)?.(args);
    if ('event' in args && args.event) return events.get(args.event.type)?.(args); // acked by Bolt
    if ('action' in args && args.action) {
      const listener = 'action_id' in args.action ? actions.get(args.action.action_id) : undefined;
      if (listener) return listener(args);
    } else if ('view' in args && args.view) {
      const listener = views.get(args.view.callback_id);
      if (listener) return listener(args);
    }
    if ('ack' in args && args.ack) await (args.ack as () => Promise<void>)();
  };
  return {
    command: (name: string, listener: Middleware<SlackCommandMiddlewareArgs>) => void commands.set(name, listener),
    action: (actionId: string, listener: Middleware<SlackActionMiddlewareArgs>) => void actions.set(actionId, listener),
    view: (callbackId: string, listener: Middleware<SlackViewMiddlewareArgs>) => void views.set(callbackId, listener),
    event: <E extends string>(type: E, listener: Middleware<SlackEventMiddlewareArgs<E>>) =>
      void events.set(type, listener as unknown as Middleware<SlackEventMiddlewareArgs>),
    /** Hands every request that reaches the end of the app's middleware to its listener. */
    mount(app: App): void {
      app.use(route);
    },
  };
}

export type Router = ReturnType<typeof createRouter>;
