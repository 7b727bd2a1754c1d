/**
 * Identity Center's SAML ACS URLs (no AWS API exposes them): per Region, IPv4
 * `https://<region>.signin.aws/platform/saml/acs/<tenant>` and dual-stack
 * `https://<region>.sso.signin.aws/platform/saml/acs/<tenant>`; the legacy
 * `https://signin.aws.amazon.com/platform/saml/acs/<tenant>` form is the primary Region's only.
 */
const ACS =
  /^https:\/\/(?:([a-z]{2}(?:-[a-z]+)+-\d)\.(?:sso\.)?signin\.aws|signin\.aws\.amazon\.com)\/platform\/saml\/acs\/([A-Za-z0-9-]+)\/?$/;

/** The tenant ID and Region (absent for the legacy form) of an ACS URL, or nothing when it is not one. */
export function parseAcsUrl(url: string): { tenant: string; region?: string } | undefined {
  const m = ACS.exec(url.trim());
  return m ? { tenant: m[2] as string, ...(m[1] ? { region: m[1] } : {}) } : undefined;
}

/** The Region's IPv4 ACS URL for a tenant. */
export const acsUrlFor = (region: string, tenant: string): string =>
  `https://${region}.signin.aws/platform/saml/acs/${tenant}`;

/**
 * The primary Region's ACS URL among what the IdP holds: its regional form, or the legacy form; the
 * tenant ID in it gives every other Region's URL.
 */
export function primaryAcsUrl(urls: readonly string[], primaryRegion: string): string | undefined {
  return (
    urls.find((u) => parseAcsUrl(u)?.region === primaryRegion) ??
    urls.find((u) => {
      const p = parseAcsUrl(u);
      return p !== undefined && p.region === undefined;
    })
  );
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * The ACS URL a person gave: the URL itself, or Identity Center's SAML metadata XML (Settings →
 * Identity source → Download metadata file), whose AssertionConsumerService Location is read.
 * Throws with what was wrong and what to give instead.
 */
export function acsUrlFromInput(given: string): { url: string; tenant: string; from: 'url' | 'metadata' } {
  const text = given.trim();
  if (!text.startsWith('<')) {
    const parsed = parseAcsUrl(text);
    if (!parsed)
      throw new Error(
        `"${text.slice(0, 120)}" is not an Identity Center ACS URL: it looks like https://us-east-1.signin.aws/platform/saml/acs/<TenantId> (console: Settings → Identity source → Actions → Manage authentication → View ACS URLs), or paste the SAML metadata XML`,
      );
    return { url: text, tenant: parsed.tenant, from: 'url' };
  }
  if (!/<(\w+:)?EntityDescriptor\b/.test(text))
    throw new Error(
      'This XML is not SAML metadata (no EntityDescriptor): download it from the Identity Center console (Settings → Identity source → Actions → Manage authentication → Download metadata file)',
    );
  const locations = [...text.matchAll(/<(?:\w+:)?AssertionConsumerService\b[^>]*?\bLocation\s*=\s*(["'])(.*?)\1/g)].map(
    (m) => (m[2] as string).replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => XML_ENTITIES[e] as string),
  );
  for (const url of locations) {
    const parsed = parseAcsUrl(url);
    if (parsed) return { url, tenant: parsed.tenant, from: 'metadata' };
  }
  throw new Error(
    `The metadata holds no Identity Center ACS URL (${locations.length ? `it has ${locations.join(', ')}` : 'no AssertionConsumerService'}): is it the metadata of IAM Identity Center (the service provider), not of your IdP?`,
  );
}
