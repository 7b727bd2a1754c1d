import type { webApi } from '@slack/bolt';
import type { Logger } from '../engine';
import { esc } from './blocks';
import { outsideChannel } from './live-messages';

/**
 * Posts the watch's findings to the notifications channel. When the bot is not in it, says so once
 * (a log line with the fix, and a message in the workflow channel) and lets the finding wait.
 */
export function createNotifier(client: webApi.WebClient, channel: string, workflowChannel: string, logger: Logger) {
  let told = false;
  return async (text: string): Promise<void> => {
    try {
      await client.chat.postMessage({ channel, text: esc(text) });
    } catch (err) {
      const why = outsideChannel(err);
      if (!told && why) {
        told = true;
        logger.error(
          { channel, slackError: why },
          `The bot cannot post to the notifications channel ${channel} (${why}): invite it there (/invite @idc-bot), or check IDC_NOTIFY_CHANNEL; findings wait until then`,
        );
        if (channel !== workflowChannel)
          await client.chat
            .postMessage({
              channel: workflowChannel,
              text: `⚠️ I cannot post replication findings to <#${channel}>: invite me there (\`/invite @idc-bot\`). They wait until then.`,
            })
            .catch(() => undefined);
      }
      throw err;
    }
  };
}
