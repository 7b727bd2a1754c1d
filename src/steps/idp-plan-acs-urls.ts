import { z } from 'zod';
import { defineStep, NonRetryableStepError } from '../engine';
import { acsUrlFor, parseAcsUrl, primaryAcsUrl } from '../idp/acs';
import type { IdentityProvider } from '../idp/port';
import { AwsRegion } from './lib/schemas';

/**
 * idp.plan-acs-urls: what the IdP needs for the Region (read-only). With an adapter, the app is
 * read, the tenant ID found in the primary Region's ACS URL there, and the exact change planned
 * (before and after) for the approval gate; without one, or for an app that holds a single ACS URL,
 * a person does it (the task), with the URL computed when the tenant is known.
 */
export const createIdpPlan = (idp?: IdentityProvider) =>
  defineStep({
    kind: 'idp.plan-acs-urls',
    description: "Plan the IdP change: read the Identity Center app's ACS URLs and work out the new Region's",
    mutates: false,
    input: z.object({
      region: AwsRegion,
      primaryRegion: AwsRegion,
      /** failover: like add (the Region's URL must be there), but a single-URL app is switched by a person. */
      operation: z.enum(['add', 'remove', 'failover']).default('add'),
      /** Given with the command (`--primary-acs-url`) when no adapter can read it. */
      primaryAcsUrl: z.string().url().optional(),
    }),
    async run(input) {
      const manual = (why: string) => ({
        output: {
          automated: false,
          manual: input.operation !== 'remove',
          ...(input.primaryAcsUrl ? { primaryAcsUrl: input.primaryAcsUrl } : {}),
          why,
        },
        summary: why,
      });
      if (!idp)
        return manual(
          input.operation === 'add'
            ? 'No IdP adapter is configured (IDC_IDP): a person updates the IdP'
            : input.operation === 'remove'
              ? `No IdP adapter is configured (IDC_IDP): remove ${input.region}'s ACS URL from the IdP by hand`
              : `No IdP adapter is configured (IDC_IDP): a person makes sure the IdP sends sign-in to ${input.region}`,
        );
      const app = await idp.read();
      if (!app.multiple) return manual(`${app.label}: ${app.single}`);
      const primary = primaryAcsUrl(app.acsUrls, input.primaryRegion) ?? input.primaryAcsUrl;
      const tenant = primary ? parseAcsUrl(primary)?.tenant : undefined;
      if (!primary || !tenant)
        throw new NonRetryableStepError(
          `${app.label} holds no Identity Center ACS URL of the primary Region ${input.primaryRegion} (it has ${app.acsUrls.length ? app.acsUrls.join(', ') : 'none'}): check IDC_IDP and the app id, or give --primary-acs-url`,
          'idp_no_primary_acs',
        );
      const target = acsUrlFor(input.region, tenant);
      const present = app.acsUrls.includes(target);
      const after =
        input.operation !== 'remove'
          ? present
            ? app.acsUrls
            : [...app.acsUrls, target]
          : app.acsUrls.filter((u) => u !== target);
      const nothingToDo = after.length === app.acsUrls.length;
      const change =
        input.operation !== 'remove'
          ? `${app.label}: add ACS URL ${target} (${app.acsUrls.length} → ${after.length} URLs; the primary's stays first)`
          : `${app.label}: remove ACS URL ${target} (${app.acsUrls.length} → ${after.length} URLs)`;
      return {
        output: {
          automated: !nothingToDo,
          manual: false,
          nothingToDo,
          primaryAcsUrl: primary,
          acsUrl: target,
          before: app.acsUrls,
          after,
          version: app.version,
          plan: {
            changes: nothingToDo ? [] : [change],
            skips: nothingToDo
              ? [`${app.label} ${input.operation !== 'remove' ? 'already has' : 'does not have'} ${target}`]
              : [],
            confirmations: [],
          },
        },
        summary: nothingToDo ? `${app.label}: nothing to change` : change,
      };
    },
  });
