import { z } from 'zod';
import { defineStep, NonRetryableStepError } from '../engine';
import { acsUrlFromInput } from '../idp/acs';

/**
 * idp.given-acs-url: checks the primary Region's ACS URL a person gave with the command (the URL,
 * or Identity Center's SAML metadata XML), before anything changes: the tenant ID in it gives the
 * new Region's exact ACS URL where no IdP adapter can read it.
 */
export const createGivenAcsUrl = () =>
  defineStep({
    kind: 'idp.given-acs-url',
    description: "Read the primary Region's ACS URL from what the person gave: the URL or the SP metadata XML",
    mutates: false,
    input: z.object({ given: z.string().min(1) }),
    async run(input) {
      try {
        const { url, tenant, from } = acsUrlFromInput(input.given);
        return {
          output: { primaryAcsUrl: url, tenant },
          summary: `ACS URL ${url}${from === 'metadata' ? ' (from the SAML metadata)' : ''}`,
        };
      } catch (err) {
        throw new NonRetryableStepError((err as Error).message, 'idp_bad_acs_url');
      }
    },
  });
