import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';

describe('manifest.yml', () => {
  it("validates against Slack's app-manifest schema and asks only for the scopes the bot uses", () => {
    const schemaPath = join(__dirname, '../../../shared/reference/slack-manifest.schema.json');
    const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>;
    delete schema.$schema;
    const manifest = parse(readFileSync(join(__dirname, '../../manifest.yml'), 'utf8')) as { oauth_config: { scopes: { bot: string[] } } };
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const valid = ajv.validate(schema, manifest);
    expect(ajv.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    // The schema really bites: a misspelt section is refused.
    expect(ajv.validate(schema, { ...manifest, setings: {} })).toBe(false);
    expect(manifest.oauth_config.scopes.bot.sort()).toEqual(['chat:write', 'commands', 'usergroups:read']);
  });
});
