import { z } from 'zod';
import { defineStep } from '../engine';

/**
 * notify.announce: a message for everyone, as the step's `announcement` output; the Slack side
 * posts it to the notifications channel (failover: where to sign in now).
 */
export const createAnnounce = () =>
  defineStep({
    kind: 'notify.announce',
    description: 'Post a message for everyone to the notifications channel',
    mutates: false,
    input: z.object({ text: z.string().min(1).max(3000) }),
    async run(input) {
      return { output: { announcement: input.text }, summary: 'Announced in the notifications channel' };
    },
  });
