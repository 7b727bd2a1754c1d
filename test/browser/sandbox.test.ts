import type { Browser, Page } from 'playwright-core';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { startSandbox } from '../../dev/sandbox';
import { launchChromium } from '../support/chromium';

let sandbox: Awaited<ReturnType<typeof startSandbox>>;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  const env = { ...process.env, SLACK_BOT_TOKEN: '', DYNAMODB_TABLE: `sandbox-${Date.now()}` };
  // 600×: the ~50 minutes of AWS time of the runbook take about five seconds.
  sandbox = await startSandbox(loadConfig(env), pino({ level: 'silent' }), { speed: 600, port: 0 });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  await page.goto(sandbox.url);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await sandbox?.stop();
});

/** Switches the person and waits until the page shows what that person sees. */
async function as(user: string) {
  await page.selectOption('#who', user);
  await page.locator(`body[data-user="${user}"]`).waitFor();
}
const liveMessage = () => page.locator('#messages .msg', { hasText: 'Add an IAM Identity Center Region' }).last();

async function click(button: string, confirmWith?: string) {
  await liveMessage().getByRole('button', { name: button }).click();
  if (confirmWith) await page.getByRole('alertdialog').getByRole('button', { name: confirmWith }).click();
}

describe('the sandbox page, driven like a person would', () => {
  it('runs /idc add-region from the channel: approvals, the IdP task, faults, and the finished workflow', async () => {
    // The IdP panel: the app holds the primary's ACS URL; make it the single-URL kind, so a person
    // updates the IdP (the task) instead of the bot (its own gate; see test/integration/idp.test.ts).
    await page
      .locator('#idp')
      .getByText(/main us-east-1\.signin\.aws/)
      .waitFor();
    await page.check('#single-acs');
    await as('UREQ');
    await page.fill('#text', '/idc add-region eu-central-1 DR for <!channel> EU');
    await page.press('#text', 'Enter');
    await page.getByText('Only visible to you').first().waitFor();
    await liveMessage().getByText('awaiting approval').waitFor({ timeout: 20_000 });
    await liveMessage().getByText('Will change').waitFor();
    // The requester's reason is shown, not turned into a channel ping.
    await liveMessage().getByText('DR for <!channel> EU').waitFor();

    // Neither the requester nor an outsider can approve: Slack shows each of them why, only to them.
    await click('Approve', 'Approve');
    await page.getByText('not one of the approvers').waitFor();
    await as('UOUT');
    await expect(page.getByText('not one of the approvers').count()).resolves.toBe(0);
    await click('Approve', 'Approve');
    await page.getByText('not one of the approvers').waitFor();
    // Rehearse trouble: throttle the next AWS calls before the changes start.
    await page.click('#throttle');
    await as('UALICE');
    await click('Approve', 'Approve');
    await as('UBOB');
    await click('Approve', 'Approve');

    // The runbook runs on the fast clock until a person must update the IdP.
    await liveMessage().getByRole('button', { name: 'Done' }).waitFor({ timeout: 30_000 });
    await liveMessage().getByText('Other Requestable SSO URLs').waitFor();
    // `SANDBOX_SCREENSHOT=docs/sandbox.png npm test -- test/browser` refreshes the README's picture.
    if (process.env.SANDBOX_SCREENSHOT) await page.screenshot({ path: process.env.SANDBOX_SCREENSHOT });
    await as('UREQ');
    await click('Done', 'Yes, done'); // Done asks whether the IdP really lists the Region's ACS URL
    await liveMessage().getByText('succeeded', { exact: true }).waitFor({ timeout: 30_000 });
    await page.locator('#aws').getByText('eu-central-1', { exact: true }).waitFor();
    await page.locator('#aws .pill.ACTIVE').nth(1).waitFor();

    // Step details are in the thread; the requester is told there that it finished.
    await liveMessage().locator('.replies').click();
    await page.locator('#thread').getByText('Verify the Region: eu-central-1 verified').waitFor();
    await page.locator('#thread .text', { hasText: 'succeeded' }).getByText('@Rea Quester').waitFor();
    expect(sandbox.aws.world.mutations()).toMatchObject({
      CreateKey: 1,
      ReplicateKey: 1,
      UpdateInstance: 1,
      AddRegion: 1,
    });
    expect(sandbox.aws.world.calls.some((c) => !c.ok)).toBe(true); // the injected throttling really happened
    await page.click('#close-thread');

    // The watcher told the notifications channel about the new Region.
    await page.locator('#channels li', { hasText: 'idc-alerts' }).click();
    await page.getByText('Region eu-central-1 appeared on the instance').first().waitFor({ timeout: 20_000 });
    await page.locator('#channels li', { hasText: 'idc-ops' }).click();

    // DR drill with the primary Region down: the new Region serves sign-in on its own.
    await page.click('#outage');
    await page.fill('#text', '/idc drill eu-central-1');
    await page.press('#text', 'Enter');
    await page.getByText('eu-central-1 can serve sign-in on its own.').waitFor({ timeout: 20_000 });
    // A failover rehearsal: with a custom app again, the bot would add the Region's ACS URL; nothing changes.
    await page.uncheck('#single-acs');
    await page.fill('#text', '/idc drill eu-central-1 --failover');
    await page.press('#text', 'Enter');
    await page.getByText(/the bot would change it after two approvals: Okta/).waitFor({ timeout: 20_000 });
    await expect(page.locator('#idp .aws-row').count()).resolves.toBe(1);
    // And a person signs in through it: the link (only for them) opens the stand-in IdP.
    await page.fill('#text', '/idc drill eu-central-1 --sign-in');
    await page.press('#text', 'Enter');
    await page.getByRole('link', { name: 'this sign-in link' }).last().click({ timeout: 20_000 });
    await page.getByRole('alertdialog').getByRole('button', { name: 'Sign in' }).click();
    await page
      .locator('#messages .msg:not(.ephemeral)', { hasText: 'signed in through eu-central-1' })
      .first()
      .waitFor({ timeout: 20_000 });
    await page.click('#outage');
    await page.fill('#text', '/idc status');
    await page.press('#text', 'Enter');
    await page
      .getByText(/Last check/)
      .first()
      .waitFor({ timeout: 20_000 });
  }, 90_000);

  it('asks for a reason in a modal when an approver rejects', async () => {
    await as('UREQ');
    await page.fill('#text', '/idc remove-region eu-central-1 cost');
    await page.press('#text', 'Enter');
    const message = page.locator('#messages .msg', { hasText: 'Remove an IAM Identity Center Region' }).last();
    await message.getByRole('button', { name: 'Reject…' }).waitFor({ timeout: 20_000 });
    await as('UALICE');
    await message.getByRole('button', { name: 'Reject…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Reject this change' });
    await dialog.locator('textarea').fill('We still need EU sign-in');
    await dialog.getByRole('button', { name: 'Reject' }).click();
    await message.getByText('rejected', { exact: true }).waitFor({ timeout: 10_000 });
    await message.getByText('We still need EU sign-in').first().waitFor();
    expect(sandbox.aws.world.instance.regions.get('eu-central-1')?.status).toBe('ACTIVE');
  }, 60_000);

  it('opens the change form on /idc add-region without a Region, and approvers act from their Home tab', async () => {
    await as('UREQ');
    await page.locator('#channels li', { hasText: 'idc-ops' }).click();
    await page.fill('#text', '/idc add-region');
    await page.press('#text', 'Enter');
    const form = page.getByRole('dialog', { name: 'Add a Region' });
    const region = form.getByLabel('Region', { exact: true });
    await region.waitFor({ timeout: 20_000 });
    // Only Regions that may be added: eu-central-1 is on the instance already.
    await expect(region.locator('option', { hasText: 'eu-west-1' }).count()).resolves.toBe(1);
    await expect(region.locator('option', { hasText: 'eu-central-1' }).count()).resolves.toBe(0);
    await form.getByRole('button', { name: 'Plan and ask' }).click();
    await form.getByText('Choose one of the Regions listed.').waitFor();
    await region.selectOption('eu-west-1');
    await form.getByLabel('Reason').fill('Second EU Region for DR');
    await form.getByRole('button', { name: 'Plan and ask' }).click();
    await page
      .getByText(/Started workflow/)
      .last()
      .waitFor({ timeout: 10_000 });
    const message = page.locator('#messages .msg', { hasText: 'eu-west-1' }).last();
    await message.getByText('awaiting approval').waitFor({ timeout: 20_000 });

    await as('UALICE');
    await page.locator('#channels li', { hasText: 'Home' }).click();
    await page.locator('.home').getByText('Waiting for you').waitFor({ timeout: 10_000 });
    await page.locator('.home').getByText('Second EU Region for DR').waitFor();
    await page.locator('.home').getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Approve' }).click();
    await page.locator('.home').getByText('Your approval is recorded.').waitFor({ timeout: 10_000 });
    await expect(page.locator('.home').getByRole('button', { name: 'Approve' }).count()).resolves.toBe(0);
  }, 60_000);

  it('serves a second organization from its own channel: its account, its panels, its Okta app', async () => {
    await as('UREQ');
    await page.locator('#channels li', { hasText: 'idc-nonprod' }).click();
    // The panels follow the channel: nonprod's instance (eu-west-1, another account) and its app.
    await page.locator('#aws-title').getByText('nonprod, account 222222222222').waitFor();
    await page.locator('#aws').getByText('eu-west-1 (primary)').waitFor();
    await page
      .locator('#idp')
      .getByText(/main eu-west-1\.signin\.aws/)
      .waitFor();
    await page.fill('#text', '/idc add-region eu-central-1 DR for nonprod');
    await page.press('#text', 'Enter');
    const message = page.locator('#messages .msg', { hasText: 'Add an IAM Identity Center Region' }).last();
    await message.getByText('awaiting approval').waitFor({ timeout: 20_000 });
    // Two gates: the AWS changes, then the exact IdP change the bot planned; each approved by both.
    for (const gate of [/🟡 Approval · since/, /🟡 Approve the IdP change · since/]) {
      await message.getByText(gate).waitFor({ timeout: 30_000 });
      for (const who of ['UALICE', 'UBOB']) {
        await as(who);
        await message.getByRole('button', { name: 'Approve' }).click();
        await page.getByRole('alertdialog').getByRole('button', { name: 'Approve' }).click();
        const oneOfTwo = message.getByText(/Approvals \(1 of 2/);
        await oneOfTwo.waitFor({ state: who === 'UALICE' ? 'visible' : 'detached', timeout: 10_000 });
      }
    }
    await message.getByText('succeeded', { exact: true }).waitFor({ timeout: 30_000 });
    await page
      .locator('#idp')
      .getByText(/eu-central-1\.signin\.aws/)
      .waitFor();
    // Everything happened in nonprod's account, as the requester's role session; prod's app is untouched.
    const calls = sandbox.nonprod.calls.filter((c) => c.action === 'AddRegion' && c.ok);
    expect(calls.map((c) => c.session)).toEqual(['idc-bot-nonprod-UREQ']);
    expect(sandbox.okta.acsUrls(sandbox.nonprodApp).map((u) => new URL(u).host)).toEqual([
      'eu-west-1.signin.aws',
      'eu-central-1.signin.aws',
    ]);
    expect(sandbox.okta.acsUrls(sandbox.oktaApp).some((u) => u.includes('eu-west-1'))).toBe(false);
    await page.locator('#channels li', { hasText: 'idc-ops' }).click();
    await page.locator('#aws-title').getByText('prod, account 111122223333').waitFor();
  }, 90_000);
});
