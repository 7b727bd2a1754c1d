import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const ROOT = join(__dirname, '../..');
const depcruise = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

/** Cruises a copy of src/ and dev/ in `dir` with the project's rules and returns what they refuse. */
function cruise(dir: string): Violation[] {
  const out = spawnSync(
    process.execPath,
    [depcruise, 'src', 'dev', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'],
    { cwd: dir, encoding: 'utf8' },
  );
  if (!out.stdout) throw new Error(`dependency-cruiser printed nothing: ${out.stderr}`);
  return (JSON.parse(out.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

/** A copy of the tree, with node_modules linked, to add forbidden imports to. */
function copyTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'boundaries-'));
  for (const f of ['src', 'dev', '.dependency-cruiser.cjs', 'tsconfig.json', 'package.json'])
    cpSync(join(ROOT, f), join(dir, f), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

/** Each probe: a file, the forbidden import it adds, and the rule that must refuse it. */
const PROBES: [file: string, code: string, rule: string][] = [
  ['src/engine/probe-index.ts', "import '../store';", 'engine-knows-no-adapters'],
  ['src/engine/executors/probe-nested.ts', "import '../../slack/blocks';", 'engine-knows-no-adapters'],
  ['src/engine/probe-sdk.ts', "import '@aws-sdk/client-kms';", 'engine-knows-no-adapters'],
  ['src/steps/probe.ts', "import '../store/keys';", 'steps-do-one-aws-thing'],
  ['src/store/probe.ts', "import '@aws-sdk/client-kms';", 'store-only-dynamodb'],
  ['src/slack/listeners/probe.ts', "import '../../aws/clients';", 'slack-never-calls-aws'],
  ['src/watch/probe.ts', "import '@slack/bolt';", 'watch-decides-only'],
  ['src/health/probe.ts', "import '../slack/blocks';", 'health-reads-aws-only'],
  ['src/aws/probe.ts', "import '../engine';", 'aws-builds-clients-only'],
  ['src/queries-probe.ts', "import './main';", 'only-entry-points-wire'],
  ['src/probe-dev.ts', "import '../dev/emulators/aws/server';", 'product-not-dev'],
  ['src/probe-dev-dependency.ts', "import 'ws';", 'product-no-dev-dependencies'],
  ['src/steps/lib/probe-a.ts', "import './probe-b';", 'no-circular'],
  ['src/aws/probe-hooks.ts', "import 'node:async_hooks';", 'no-async-hooks'],
];

describe('folder boundaries (.dependency-cruiser.cjs)', () => {
  let dir: string;
  beforeAll(() => {
    dir = copyTree();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('hold on the code as it is', () => {
    expect(cruise(dir)).toEqual([]);
  }, 60_000);

  it('refuse a forbidden import in every folder: index imports, nested files, SDKs, dev tooling, circles', () => {
    for (const [file, code] of PROBES) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), `${code}\nexport {};\n`);
    }
    writeFileSync(join(dir, 'src/steps/lib/probe-b.ts'), "import './probe-a';\nexport {};\n");
    appendFileSync(join(dir, 'src/config.ts'), "\nimport './queries';\n");
    const found = cruise(dir).map((v) => `${v.from} ${v.rule.name}`);
    for (const [file, , rule] of PROBES) expect(found).toContain(`${file} ${rule}`);
    expect(found).toContain('src/config.ts config-stands-alone');
  }, 60_000);
});

describe("Bolt's parts without its index (src/slack/bolt.ts)", () => {
  it("are the very objects Bolt's index exports, so a Bolt release that moves one fails here", () => {
    const names = [
      'App',
      'LogLevel',
      'AuthorizationError',
      'HTTPReceiver',
      'AwsLambdaReceiver',
      'isValidSlackRequest',
      'webApi',
    ];
    const dir = mkdtempSync(join(tmpdir(), 'bolt-'));
    try {
      const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
      const args = ['--outDir', dir, '--module', 'commonjs', '--esModuleInterop', '--skipLibCheck'];
      const built = spawnSync(process.execPath, [tsc, join(ROOT, 'src/slack/bolt.ts'), ...args], { encoding: 'utf8' });
      expect(built.stdout + built.stderr).toBe('');
      // In a fresh process: jest's module registry would give each file its own copies.
      const script = `const ours = require(${JSON.stringify(join(dir, 'bolt.js'))}); const bolt = require('@slack/bolt');
        process.stdout.write(JSON.stringify(${JSON.stringify(names)}.map((n) => [n, ours[n] !== undefined && ours[n] === bolt[n]])));`;
      const env = { ...process.env, NODE_PATH: join(ROOT, 'node_modules') };
      const run = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, env, encoding: 'utf8' });
      expect(JSON.parse(run.stdout)).toEqual(names.map((n) => [n, true]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
