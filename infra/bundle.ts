import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { load } from 'js-yaml';
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { ROOT } from './parts';

/**
 * Bolt's index loads every receiver; on Lambda only AwsLambdaReceiver runs. Express (with
 * body-parser, mime-db), raw-body (with iconv-lite's tables) and Socket Mode (with undici and ws) are
 * a third of the bundle and of its load time, so the bundle gets a stand-in that fails loudly if
 * anything ever uses them.
 */
const NOT_ON_LAMBDA = /^(express|@slack\/socket-mode|@slack\/oauth|raw-body)$/;
const notOnLambda: Plugin = {
  name: 'not-on-lambda',
  setup(b) {
    b.onResolve({ filter: NOT_ON_LAMBDA }, (args) => ({ path: args.path, namespace: 'not-on-lambda' }));
    b.onLoad({ filter: /.*/, namespace: 'not-on-lambda' }, (args) => ({
      contents: `const why = () => { throw new Error('${args.path} is not in the Lambda bundle (only AwsLambdaReceiver is)'); };
module.exports = new Proxy(why, { get: (_t, k) => (k === '__esModule' || typeof k === 'symbol' ? undefined : why()), apply: why, construct: why });`,
      loader: 'js',
    }));
  },
};

/**
 * zod re-exports its 60-odd message locales as `z.locales`, so the bundle carries (and every cold
 * start parses) about 400 KB of translations the bot never uses: its messages are its own, in
 * English. The bundle keeps English, which zod registers as its default.
 */
const englishOnly: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.c?js$/ }, (args) =>
      /[/\\]zod[/\\]/.test(args.importer)
        ? { path: join(dirname(args.importer), '../locales/en.js'), namespace: 'zod-english-only' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
  },
};

/** One minified CommonJS file for Node 22+ with everything `entry` imports (the bench's bare bundle too). */
export function bundleForNode(entry: string, outfile: string, extra: BuildOptions = {}) {
  return build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    logLevel: 'error',
    ...extra,
  });
}

/**
 * The Lambda deployment package: `src/lambda.ts` and only what it imports (the AWS SDK clients, Bolt,
 * zod, pino, js-yaml), bundled and minified by esbuild for Node 22, plus the workflow definitions (as JSON). No
 * emulators, no dev tooling, no node_modules. `npm run bundle` writes it to `dist-lambda/`.
 */
export async function bundleLambda(outDir = join(ROOT, 'dist-lambda')): Promise<{ dir: string; bytes: number }> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await bundleForNode(join(ROOT, 'src/lambda.ts'), join(outDir, 'index.js'), {
    // Names kept: stack traces read without source maps, which Node would parse at every cold start
    // (about 40 ms for this bundle); the map ships beside it for decoding offline. Measured, the
    // unmangled bundle also loads faster (163 against 180 ms here).
    minify: false,
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: true,
    legalComments: 'external',
    plugins: [notOnLambda, englishOnly],
  });
  // The workflow definitions as JSON: parsing YAML costs a cold start about 60 ms; JSON.parse, nothing.
  // The function still validates them at start-up (its step kinds, its roles), as from YAML.
  mkdirSync(join(outDir, 'workflows'));
  for (const file of readdirSync(join(ROOT, 'workflows')).filter((f) => /\.ya?ml$/.test(f)))
    writeFileSync(
      join(outDir, 'workflows', file.replace(/\.ya?ml$/, '.json')),
      JSON.stringify(load(readFileSync(join(ROOT, 'workflows', file), 'utf8'))),
    );
  return { dir: outDir, bytes: statSync(join(outDir, 'index.js')).size };
}

if (require.main === module)
  bundleLambda().then(
    ({ dir, bytes }) => process.stdout.write(`Lambda bundle: ${dir}/index.js (${(bytes / 1e6).toFixed(1)} MB)\n`),
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
