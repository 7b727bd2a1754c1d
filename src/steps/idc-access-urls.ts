import { z } from 'zod';
import { defineStep } from '../engine';
import { parseAcsUrl } from '../idp/acs';
import { AwsRegion, InstanceArn, instanceIdOf } from './lib/schemas';

/** idc.access-urls: the new Region's portal and ACS URLs, and the IdP instructions. */
export const createAccessUrls = () =>
  defineStep({
    kind: 'idc.access-urls',
    description: "Derive the Region's access portal and SAML ACS URLs and write the Okta / Entra ID instructions",
    mutates: false,
    input: z.object({
      instanceArn: InstanceArn,
      region: AwsRegion,
      primaryRegion: AwsRegion,
      primaryAcsUrl: z.string().url().optional(),
    }),
    async run(input) {
      const id = instanceIdOf(input.instanceArn);
      const tenant = (input.primaryAcsUrl && parseAcsUrl(input.primaryAcsUrl)?.tenant) ?? '<TenantId from the console>';
      const r = input.region;
      const out = {
        portalUrl: `https://${id}.${r}.portal.amazonaws.com`,
        portalUrlDualStack: `https://${id}.portal.${r}.app.aws`,
        acsUrl: `https://${r}.signin.aws/platform/saml/acs/${tenant}`,
        acsUrlDualStack: `https://${r}.sso.signin.aws/platform/saml/acs/${tenant}`,
        tenantKnown: !tenant.startsWith('<'),
      };
      // What Done asserts (its confirm dialog, and the audit).
      const confirm = out.tenantKnown
        ? `The Identity Center app in the IdP lists ${out.acsUrl} as an ACS URL (reply URL), and still has the primary Region's as its default.`
        : `The Identity Center app in the IdP lists ${r}'s ACS URL exactly as the console shows it (https://${r}.signin.aws/platform/saml/acs/…), and still has the primary Region's as its default.`;
      const verify = out.tenantKnown
        ? 'Check it against the console (Settings → Identity source → Actions → Manage authentication → View ACS URLs) before saving.'
        : 'Copy the exact ACS URL from the console: Settings → Identity source → Actions → Manage authentication → View ACS URLs (no API exposes it).';
      const instructions = [
        `*New Region ${r}*`,
        `• Access portal: ${out.portalUrl} (dual-stack: ${out.portalUrlDualStack})`,
        `• ACS URL: ${out.acsUrl} (dual-stack: ${out.acsUrlDualStack})`,
        verify,
        '',
        '*Okta* (AWS IAM Identity Center app): Applications → AWS IAM Identity Center → Sign On → Edit → Advanced Sign-on Settings → Other Requestable SSO URLs → Add another: the ACS URL above, next index. Keep the primary ACS URL in the main "ACS URL" field. Save.',
        "*Microsoft Entra ID*: Enterprise applications → AWS IAM Identity Center → Single sign-on → Basic SAML Configuration → Edit → Add reply URL: the ACS URL above. Keep the primary Region's URL as Default. Save.",
        `*Bookmark app (optional)*: an Okta Bookmark app or an Entra linked sign-on app pointing at ${out.portalUrl}, assigned to the same people, so they can sign in through ${r} if ${input.primaryRegion} is down.`,
        `*CLI*: a profile with sso_start_url = ${out.portalUrl} and sso_region = ${r}; each Region needs its own \`aws sso login\`.`,
      ].join('\n');
      return { output: { ...out, instructions, confirm }, summary: `Portal ${out.portalUrl}` };
    },
  });
