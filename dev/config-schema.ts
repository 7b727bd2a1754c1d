import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configFileJsonSchema } from '../src/config-file';

/** Writes docs/idc-bot.schema.json from the zod schema of idc-bot.yml (test/unit/config.test.ts keeps them equal). */
const out = join(__dirname, '../../docs/idc-bot.schema.json');
writeFileSync(out, `${JSON.stringify(configFileJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${out}\n`);
