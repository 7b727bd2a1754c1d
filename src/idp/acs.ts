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
