import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { load as parse } from 'js-yaml';

/** The bot scopes the Web API methods called in src/slack need (Slack's method docs), plus `commands`. */
function scopesUsed(): string[] {
  const SCOPE: Record<string, string | null> = {
    'chat.postMessage': 'chat:write',
    'chat.update': 'chat:write',
    'chat.postEphemeral': 'chat:write',
    'usergroups.users.list': 'usergroups:read',
    'users.info': 'users:read',
    'views.open': null,
    'views.update': null,
    'views.publish': null,
    'auth.test': null,
    'bots.info': 'users:read',
    'conversations.open': 'im:write',
  };
  const dir = join(__dirname, '../../src/slack');
  const scopes = new Set(['commands']);
  for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))) {
    // files.uploadV2 (files.getUploadURLExternal + files.completeUploadExternal) needs files:write.
    if (/\.filesUploadV2\(/.test(readFileSync(join(dir, file), 'utf8'))) scopes.add('files:write');
    for (const m of readFileSync(join(dir, file), 'utf8')
      .replace(/\s+\./g, '.') // calls split over lines by the formatter
      .matchAll(/(?:client|client\(\))\s*\.([a-z]+\.[a-zA-Z]+(?:\.[a-zA-Z]+)?)\(/g)) {
      const method = m[1] as string;
      if (!(method in SCOPE)) throw new Error(`${file} calls ${method}: add its scope to this test`);
      if (SCOPE[method]) scopes.add(SCOPE[method] as string);
    }
  }
  return [...scopes].sort();
}

describe('manifest.yml', () => {
  it("validates against Slack's app-manifest schema and asks only for the scopes the bot uses", () => {
    const schemaPath = join(__dirname, '../../vendor/slack-manifest-schema/manifest.schema.json');
    const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>;
    delete schema.$schema;
    const manifest = parse(readFileSync(join(__dirname, '../../manifest.yml'), 'utf8')) as {
      oauth_config: { scopes: { bot: string[] } };
      settings: { event_subscriptions: { bot_events: string[] } };
      features: { app_home: { home_tab_enabled: boolean } };
    };
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const valid = ajv.validate(schema, manifest);
    expect(ajv.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    // The schema really bites: a misspelt section is refused.
    expect(ajv.validate(schema, { ...manifest, setings: {} })).toBe(false);
    expect(manifest.oauth_config.scopes.bot.sort()).toEqual(scopesUsed());
    // Every event the app listens to is subscribed, and the Home tab it publishes is on.
    const events = [...readdirSync(join(__dirname, '../../src/slack/listeners/events'))].map((f) =>
      f.replace(/-/g, '_').replace(/\.ts$/, ''),
    );
    expect(manifest.settings.event_subscriptions.bot_events.sort()).toEqual(events.sort());
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
  });
});
