import { generateKeyPairSync } from 'node:crypto';
import { startEntraEmulator, type EntraEmulator } from '../../dev/emulators/idp/entra';
import { startOktaEmulator, type OktaEmulator } from '../../dev/emulators/idp/okta';
import { detachedContext, type Run } from '../../src/engine';
import { createIdpWrite } from '../../src/steps/idp-write-acs-urls';
import { createEntra } from '../../src/idp/entra';
import { createOkta } from '../../src/idp/okta';
import type { IdentityProvider } from '../../src/idp/port';
import { createQueries } from '../../src/queries';
import { ACTIONS, buildRunMessage } from '../../src/slack/blocks';
import { renderFailoverRehearsal } from '../../src/slack/render';
import type { Watcher } from '../../src/watch';
import { awsHarness } from '../support/aws-harness';

// add-region with an IdP adapter, end to end against the AWS, Okta and Microsoft Graph emulators:
// the bot plans the exact change, a second gate approves it, the bot writes it and reads it back.

const { setup, runUntilPerson, approveAll, clock } = awsHarness();
const { publicKey, privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
let okta: OktaEmulator;
let entra: EntraEmulator;
const TENANT = 'a1b2c3d4-aaaa-bbbb-cccc-000011112222';
const ENTRA = {
  tenantId: 'contoso.onmicrosoft.com',
  clientId: '11111111-2222-3333-4444-555555555555',
  clientSecret: 'entra-client-secret-1',
};

beforeAll(async () => {
  okta = await startOktaEmulator({ clientId: '0oabotclient', publicKey, keyId: 'k1' });
  entra = await startEntraEmulator(ENTRA);
});
afterAll(async () => {
  await okta.close();
  await entra.close();
});

/** Starts a workflow (add-region by default) for eu-central-1 of the us-east-1 instance, as UREQ. */
const start = (
  engine: Awaited<ReturnType<typeof setup>>['engine'],
  workflowId = 'add-region',
  input: Record<string, unknown> = {},
  reason = 'DR',
) =>
  engine.start({
    workflowId,
    input: { region: 'eu-central-1', homeRegion: 'us-east-1', ...input },
    requester: 'UREQ',
    reason,
  });

const primaryAcs = (tenant = TENANT) => `https://us-east-1.signin.aws/platform/saml/acs/${tenant}`;
const euAcs = `https://eu-central-1.signin.aws/platform/saml/acs/${TENANT}`;
const oktaAdapter = (appId: string) =>
  createOkta({ orgUrl: okta.url, appId, clientId: '0oabotclient', keyId: 'k1', privateKey });
const entraAdapter = (appId: string) =>
  createEntra({ ...ENTRA, appObjectId: appId, loginUrl: entra.loginUrl, graphUrl: entra.graphUrl });

/** add-region through both gates (AWS, then the IdP change); stops before the IdP gate when `stopAtIdpGate`. */
async function addRegion(idp: IdentityProvider, between?: () => void) {
  const { engine, clients } = await setup(undefined, {}, idp);
  const run = await start(engine);
  let now = await runUntilPerson(engine, run.id);
  await approveAll(engine, now); // the AWS changes
  now = await runUntilPerson(engine, run.id);
  const gate = now.definition.steps[now.cursor]?.id;
  const plan = (now.steps['idp-plan']?.output as { plan?: { changes: string[] } } | undefined)?.plan;
  if (now.status === 'awaiting_approval') {
    between?.();
    await approveAll(engine, now); // the IdP change, as planned
    now = await runUntilPerson(engine, run.id);
  }
  clients.destroy();
  return { run: now as Run, gate, plan, events: await engine.events(run.id) };
}

describe('the IdP side, automated', () => {
  it('Okta: plans the exact change, asks for approval, adds the ACS URL once and reads it back; a re-run adds nothing', async () => {
    const appId = okta.addApp(primaryAcs());
    const { run, gate, plan, events } = await addRegion(oktaAdapter(appId));
    expect([run.status, run.error]).toEqual(['succeeded', undefined]);
    expect(gate).toBe('approve-idp');
    expect(plan?.changes).toEqual([
      `Okta app AWS IAM Identity Center (${appId}): add ACS URL ${euAcs} (1 → 2 URLs; the primary's stays first)`,
    ]);
    const signOn = (okta.apps.get(appId)?.settings as { signOn: Record<string, unknown> }).signOn;
    expect(signOn).toMatchObject({
      ssoAcsUrl: primaryAcs(),
      allowMultipleAcsEndpoints: true,
      acsEndpoints: [{ url: euAcs, index: 0 }],
      audience: 'urn:amazon:webservices', // the rest of the app survives the full replace
    });
    expect(run.steps['update-idp']?.status).toBe('skipped'); // no task for a person
    // Audited with Okta's request id of the write.
    const written = events.find((e) => e.type === 'step_succeeded' && e.stepId === 'write-idp');
    const puts = okta.requests.filter((r) => r.method === 'PUT');
    expect(puts).toHaveLength(1);
    expect(written?.data).toMatchObject({ idp: 'okta', idpRequestId: puts[0]?.id, after: [primaryAcs(), euAcs] });

    // The write step again (a retry after a lost answer, say): nothing to write.
    const write = createIdpWrite(oktaAdapter(appId));
    const again = await write.run(
      write.input.parse({ after: [primaryAcs(), euAcs], version: 'the plan before' }),
      detachedContext({ now: clock.now }),
    );
    expect(again.output).toMatchObject({ written: false });
    expect(okta.requests.filter((r) => r.method === 'PUT')).toHaveLength(1);
  });

  it('Okta: a change made to the app between the plan and the write is detected, and nothing is written over it', async () => {
    const appId = okta.addApp(primaryAcs());
    const { run } = await addRegion(oktaAdapter(appId), () => okta.touch(appId));
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/The Okta app changed since the plan[\s\S]*nothing was written/);
    expect(okta.requests.filter((r) => r.method === 'PUT' && r.path.endsWith(appId))).toHaveLength(0);
  });

  it('Okta: a read-back that differs from what was written fails the step with what to check', async () => {
    const appId = okta.addApp(primaryAcs());
    okta.hooks.beforePut = (app) => ({
      ...app,
      settings: { ...(app.settings as object), signOn: { ssoAcsUrl: primaryAcs(), acsEndpoints: [] } },
    });
    try {
      const { run } = await addRegion(oktaAdapter(appId));
      expect(run.status).toBe('failed');
      expect(run.error).toMatch(/reads back .* instead of .*: check the app in the IdP's admin console/);
    } finally {
      okta.hooks.beforePut = undefined;
    }
  });

  it('Okta: the single-ACS Okta Integration Network app is said plainly, and a person does it (the task)', async () => {
    const appId = okta.addApp(primaryAcs(), 'oin');
    const { engine, clients } = await setup(undefined, {}, oktaAdapter(appId));
    const started = await start(engine);
    await approveAll(engine, await runUntilPerson(engine, started.id));
    const run = await runUntilPerson(engine, started.id);
    expect(run.status).toBe('awaiting_task');
    expect(run.steps['idp-plan']?.summary).toMatch(/Okta Integration Network app, which holds a single ACS URL/);
    await engine.cancel({ runId: run.id, user: 'UREQ' });
    clients.destroy();
  });

  it('Entra ID: appends the reply URL, keeps the primary first, and reads it back', async () => {
    const appId = entra.addApp(primaryAcs());
    const { run, events } = await addRegion(entraAdapter(appId));
    expect([run.status, run.error]).toEqual(['succeeded', undefined]);
    expect(entra.apps.get(appId)?.web.redirectUris).toEqual([primaryAcs(), euAcs]);
    const patch = entra.requests.find((r) => r.method === 'PATCH');
    expect(events.find((e) => e.stepId === 'write-idp' && e.type === 'step_succeeded')?.data).toMatchObject({
      idp: 'entra',
      idpRequestId: patch?.id,
    });
  });

  it('never waits for ever on a hung IdP: the call times out (and the step is tried again)', async () => {
    const appId = okta.addApp(primaryAcs());
    okta.hooks.delayMs = 2_000;
    try {
      const started = Date.now();
      const slow = createOkta({
        orgUrl: okta.url,
        appId,
        clientId: '0oabotclient',
        keyId: 'k1',
        privateKey,
        timeoutMs: 300,
      });
      await expect(slow.read()).rejects.toThrow(/timeout|aborted/i);
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      okta.hooks.delayMs = 0;
    }
  });

  it('says what to fix when the IdP refuses the bot (wrong secret, unknown app)', async () => {
    await expect(
      createEntra({
        ...ENTRA,
        clientSecret: 'wrong-secret',
        appObjectId: entra.addApp(primaryAcs()),
        loginUrl: entra.loginUrl,
        graphUrl: entra.graphUrl,
      }).read(),
    ).rejects.toThrow(
      /Microsoft Entra ID answered 401 \(invalid_client: AADSTS7000215[\s\S]*check ENTRA_TENANT_ID, ENTRA_CLIENT_ID and the client secret/,
    );
    await expect(oktaAdapter('0oanothere').read()).rejects.toThrow(
      /Okta answered 404 \(E0000007: Not found[\s\S]*\[request [\w-]+\]: check OKTA_APP_ID/,
    );
  });
});

describe('remove-region cleans up the IdP', () => {
  it("takes the Region's ACS URL out of the IdP (behind its gate) before removing the Region", async () => {
    const appId = entra.addApp(primaryAcs());
    entra.apps.get(appId)?.web.redirectUris.push(euAcs);
    const { engine, clients, world } = await setup(undefined, {}, entraAdapter(appId));
    world.instance.regions.set('eu-central-1', { name: 'eu-central-1', status: 'ACTIVE', addedDate: clock.now() });
    const started = await start(engine, 'remove-region', {}, 'cleanup');
    await approveAll(engine, await runUntilPerson(engine, started.id)); // the Region's removal
    const atIdpGate = await runUntilPerson(engine, started.id);
    expect(atIdpGate.definition.steps[atIdpGate.cursor]?.id).toBe('approve-idp');
    expect(world.instance.regions.get('eu-central-1')?.status).toBe('ACTIVE'); // not yet: the IdP first
    await approveAll(engine, atIdpGate);
    const run = await runUntilPerson(engine, started.id);
    expect([run.status, run.error]).toEqual(['succeeded', undefined]);
    expect(entra.apps.get(appId)?.web.redirectUris).toEqual([primaryAcs()]);
    expect(world.instance.regions.has('eu-central-1')).toBe(false);
    clients.destroy();
  });
});

describe('failover and failback, with the primary Region down', () => {
  async function failover(
    idp: IdentityProvider | undefined,
    workflowId: 'failover' | 'failback',
    region = 'eu-central-1',
  ) {
    const { engine, clients, world } = await setup(undefined, {}, idp);
    world.instance.regions.set('eu-central-1', { name: 'eu-central-1', status: 'ACTIVE', addedDate: clock.now() });
    if (workflowId === 'failover') world.faults.outage.add('us-east-1');
    const callsBefore = world.calls.length;
    try {
      const started = await start(engine, workflowId, { region }, 'us-east-1 sign-in errors');
      let now = await runUntilPerson(engine, started.id);
      if (now.status === 'awaiting_approval') {
        await approveAll(engine, now);
        now = await runUntilPerson(engine, started.id);
      }
      const task = now.status === 'awaiting_task' ? now.definition.steps[now.cursor]?.id : undefined;
      if (task) {
        await engine.confirmTask({ runId: now.id, user: 'UA' });
        now = await runUntilPerson(engine, started.id);
      }
      const primaryCalls = world.calls.slice(callsBefore).filter((c) => c.region === 'us-east-1');
      return { run: now, task, primaryCalls };
    } finally {
      world.faults.outage.delete('us-east-1');
      clients.destroy();
    }
  }
  const announcement = (r: Run) => (r.steps.announce?.output as { announcement?: string } | undefined)?.announcement;

  it('an IdP that already has the Region: checks it on its own endpoints, changes nothing, tells everyone where to sign in', async () => {
    const appId = okta.addApp(primaryAcs());
    await oktaAdapter(appId).writeAcsUrls([primaryAcs(), euAcs], (await oktaAdapter(appId).read()).version);
    const { run, task, primaryCalls } = await failover(oktaAdapter(appId), 'failover');
    expect([run.status, run.error, task]).toEqual(['succeeded', undefined, undefined]);
    expect(run.steps.approve?.status).toBe('skipped'); // nothing to approve: the URL is there
    expect(announcement(run)).toMatch(
      /Sign in through eu-central-1 until further notice: https:\/\/ssoins-\w+\.eu-central-1\.portal\.amazonaws\.com/,
    );
    expect(primaryCalls).toEqual([]); // the primary is down, and nothing asked it
  });

  it('an IdP without it: the bot registers it behind an approval; a single-URL app is switched by a person', async () => {
    const appId = okta.addApp(primaryAcs());
    const auto = await failover(oktaAdapter(appId), 'failover');
    expect(auto.run.status).toBe('succeeded');
    expect(auto.run.steps.approve?.status).not.toBe('skipped');
    expect((await oktaAdapter(appId).read()).acsUrls).toEqual([primaryAcs(), euAcs]);

    const oin = await failover(oktaAdapter(okta.addApp(primaryAcs(), 'oin')), 'failover');
    expect([oin.run.status, oin.task]).toEqual(['succeeded', 'switch-idp']);
    const back = await failover(oktaAdapter(okta.addApp(primaryAcs(), 'oin')), 'failback');
    expect([back.run.status, back.task]).toEqual(['succeeded', 'switch-back']);
    expect(announcement(back.run)).toMatch(/us-east-1 answers again/);
  });

  it('refuses a Region that cannot serve sign-in on its own, saying what failed', async () => {
    const { run } = await failover(undefined, 'failover', 'ap-south-1');
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/ap-south-1 cannot take over sign-in: Identity Center instance answers in ap-south-1/);
  });
});

const spMetadata = (acs: string) => `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://us-east-1.signin.aws/platform/saml/d-9067c1a2b3">
  <md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${acs}" index="0" isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>`;

describe('without an adapter: the URL or the SP metadata a person gives', () => {
  it('reads the ACS URL from the SAML metadata, so the task names the exact URL; Done asks to confirm it, and the audit records it', async () => {
    const { engine, clients } = await setup();
    const started = await start(engine, 'add-region', { primaryAcsUrl: spMetadata(primaryAcs()) });
    await approveAll(engine, await runUntilPerson(engine, started.id));
    const run = await runUntilPerson(engine, started.id);
    expect([run.status, run.definition.steps[run.cursor]?.id]).toEqual(['awaiting_task', 'update-idp']);
    expect(run.steps['idp-given']?.summary).toBe(`ACS URL ${primaryAcs()} (from the SAML metadata)`);
    const task = run.steps['update-idp']?.output as { instructions: string; confirm: string };
    expect(task.instructions).toContain(`ACS URL: ${euAcs}`);
    expect(task.confirm).toMatch(new RegExp(`lists ${euAcs.replace(/[./]/g, '\\$&')} as an ACS URL`));
    // The Done button asks exactly that in Slack's confirm dialog.
    const done = buildRunMessage(run)
      .blocks.flatMap((b) => (b.type === 'actions' ? (b.elements as Record<string, unknown>[]) : []))
      .find((e) => e.action_id === ACTIONS.taskDone) as { confirm?: { text: { text: string } } };
    expect(done.confirm?.text.text).toContain(euAcs);
    expect((await engine.confirmTask({ runId: run.id, user: 'UA' })).ok).toBe(true);
    const confirmed = (await engine.events(run.id)).find((e) => e.type === 'task_confirmed');
    expect(confirmed?.message).toContain(`(The Identity Center app in the IdP lists ${euAcs}`);
    clients.destroy();
  });

  it.each([
    [
      'a URL that is not an ACS URL',
      'https://example.okta.com/app/123',
      /is not an Identity Center ACS URL: it looks like https:\/\/us-east-1\.signin\.aws/,
    ],
    [
      'XML that is not SAML metadata',
      '<html><body>hi</body></html>',
      /not SAML metadata \(no EntityDescriptor\): download it/,
    ],
    [
      "the IdP's metadata instead of Identity Center's",
      spMetadata('https://example.okta.com/sso/saml2/0oa1'),
      /holds no Identity Center ACS URL \(it has https:\/\/example\.okta\.com\/sso\/saml2\/0oa1\): is it the metadata of IAM Identity Center/,
    ],
  ])('%s stops the run before anything changes, saying what to give', async (_what, given, why) => {
    const { engine, clients, world } = await setup();
    const mutationsBefore = world.mutations();
    const started = await start(engine, 'add-region', { primaryAcsUrl: given });
    const run = await runUntilPerson(engine, started.id);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(why);
    expect(run.steps.preflight).toBeUndefined(); // stopped before preflight and its approval
    expect(world.mutations()).toEqual(mutationsBefore);
    clients.destroy();
  });
});

describe('failover rehearsal (/idc drill <region> --failover), with the primary Region down', () => {
  async function rehearse(idp: IdentityProvider | undefined) {
    const { clients, world, registry } = await setup(undefined, {}, idp);
    world.instance.regions.set('eu-central-1', { name: 'eu-central-1', status: 'ACTIVE', addedDate: clock.now() });
    world.faults.outage.add('us-east-1');
    const callsBefore = world.calls.length;
    const queries = createQueries({
      clients,
      watcher: { cached: () => undefined } as unknown as Watcher,
      steps: {
        preflight: registry.get('idc.preflight')!,
        idpPlan: registry.get('idp.plan-acs-urls')!,
        accessUrls: registry.get('idc.access-urls')!,
      },
      baseInput: { homeRegion: 'us-east-1' },
      clock,
    });
    try {
      const view = await queries.rehearseFailover('eu-central-1', 'UA');
      return {
        view,
        text: renderFailoverRehearsal(view, true),
        primaryCalls: world.calls.slice(callsBefore).filter((c) => c.region === 'us-east-1'),
      };
    } finally {
      world.faults.outage.delete('us-east-1');
      clients.destroy();
    }
  }

  it('says what the bot would change in the IdP and where users would sign in, and changes nothing', async () => {
    const appId = okta.addApp(primaryAcs());
    const puts = () => okta.requests.filter((r) => r.method === 'PUT').length;
    const putsBefore = puts();
    const { view, text, primaryCalls } = await rehearse(oktaAdapter(appId));
    expect(view.idp).toMatchObject({ automated: true, change: expect.stringContaining(`add ACS URL ${euAcs}`) });
    expect(text).toMatch(/The IdP: the bot would change it after two approvals: .*add ACS URL/);
    expect(text).toMatch(/sign in at https:\/\/ssoins-\w+\.eu-central-1\.portal\.amazonaws\.com/);
    expect(puts()).toBe(putsBefore);
    expect((await oktaAdapter(appId).read()).acsUrls).toEqual([primaryAcs()]);
    expect(primaryCalls).toEqual([]);
  });

  it('a single-URL app, or no adapter: a person would switch it', async () => {
    const oin = await rehearse(oktaAdapter(okta.addApp(primaryAcs(), 'oin')));
    expect(oin.text).toMatch(/a person would make it send sign-in to eu-central-1 .*single ACS URL/);
    const none = await rehearse(undefined);
    expect(none.text).toMatch(/a person would make it send sign-in to eu-central-1 .*No IdP adapter is configured/);
  });
});
