import { z } from 'zod';
import { defineStep, NonRetryableStepError } from '../engine';
import { IdpConflictError, IdpError, type IdentityProvider } from '../idp/port';

/**
 * idp.write-acs-urls: applies the approved IdP change (the planned list), then reads the app back
 * and checks it holds exactly that. Idempotent: an app that already holds the list is left alone.
 * A change made to the app since the plan stops the step: nothing is written over it.
 */
export const createIdpWrite = (idp?: IdentityProvider) =>
  defineStep({
    kind: 'idp.write-acs-urls',
    description: "Write the approved ACS URLs to the IdP's Identity Center app and read them back",
    mutates: true,
    outsideInstance: true,
    input: z.object({
      after: z.array(z.string().url()).min(1),
      /** The app's version the plan was made on. */
      version: z.string(),
    }),
    async run(input, ctx) {
      if (!idp) throw new NonRetryableStepError('No IdP adapter is configured (IDC_IDP)', 'idp_not_configured');
      const same = (a: string[]) => a.length === input.after.length && a.every((u, i) => u === input.after[i]);
      const now = await idp.read();
      if (same(now.acsUrls))
        return {
          output: { written: false, acsUrls: now.acsUrls },
          summary: `${now.label} already holds the planned ACS URLs`,
        };
      await ctx.fence('idp:write-acs-urls'); // a stale try (its lease lost) stops here, before writing
      let requestId: string | undefined;
      try {
        ({ requestId } = await idp.writeAcsUrls(input.after, input.version));
      } catch (err) {
        if (err instanceof IdpConflictError)
          throw new NonRetryableStepError(
            `${err.message}: review the app, then start the workflow again (its AWS part is done and is skipped) to plan and approve the IdP change anew`,
            'idp_conflict',
          );
        if (err instanceof IdpError && !err.retryable) throw new NonRetryableStepError(err.message, 'idp_refused');
        throw err;
      }
      const back = await idp.read();
      if (!same(back.acsUrls))
        throw new NonRetryableStepError(
          `${back.label} reads back ${back.acsUrls.join(', ')} instead of ${input.after.join(', ')}: check the app in the IdP's admin console (another change, or a policy that rewrites it)`,
          'idp_readback_mismatch',
        );
      return {
        output: { written: true, acsUrls: back.acsUrls },
        summary: `${back.label}: ${back.acsUrls.length} ACS URLs, read back`,
        audit: { idp: idp.kind, idpRequestId: requestId, before: now.acsUrls, after: back.acsUrls },
      };
    },
  });
