// Folder boundaries of the bot (README "Architecture"), enforced by `npm run lint:deps` in CI and
// proven by test/unit/boundaries.test.ts, which adds a forbidden import to each folder and expects
// the rule below to name it.
const folder = (name) => `^src/${name}/`;
const others = (...names) => `^src/(${names.join('|')})(/|\\.ts$)`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import circles make the layout impossible to read and to test part by part.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'product-not-dev',
      severity: 'error',
      comment:
        'The bot never imports dev tooling (emulators, sandbox, bench), the deployment stack or tests: they are not shipped.',
      from: { path: '^src/' },
      to: { path: '^(dev|test|infra)/' },
    },
    {
      name: 'product-no-dev-dependencies',
      severity: 'error',
      comment: 'What src/ imports must be a production dependency (npm ci --omit=dev must run the bot).',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-async-hooks',
      severity: 'error',
      comment:
        'No AsyncLocalStorage or async hooks in the bot: on Node 20 and 22 they hook every promise of the process, the acks included (about 8 % of an ack, docs/BENCHMARKS.md); pass what a call needs instead.',
      from: { path: '^src/' },
      to: { path: '^(node:)?async_hooks$' },
    },
    {
      name: 'engine-knows-no-adapters',
      severity: 'error',
      comment:
        'The engine knows nothing about Slack, AWS or DynamoDB: it talks to the world through src/engine/ports.ts.',
      from: { path: folder('engine') },
      to: {
        path: [
          others('slack', 'steps', 'store', 'aws', 'health', 'watch', 'config', 'main', 'lambda', 'queries', 'cli'),
          '^node_modules/@(slack|aws-sdk)/',
        ],
      },
    },
    {
      name: 'steps-do-one-aws-thing',
      severity: 'error',
      comment: 'Steps do one AWS thing: no Slack, no store, no watcher; clients come as parameters.',
      from: { path: folder('steps') },
      to: {
        path: [
          others('slack', 'store', 'health', 'watch', 'config', 'main', 'lambda', 'queries', 'cli'),
          '^node_modules/@slack/',
          '^node_modules/@aws-sdk/client-dynamodb/',
        ],
      },
    },
    {
      name: 'store-only-dynamodb',
      severity: 'error',
      comment:
        'The store does conditional writes on DynamoDB and nothing else (its package loaded on first use through src/aws/sdk.ts).',
      from: { path: folder('store') },
      to: {
        path: [
          others('slack', 'steps', 'aws', 'health', 'watch', 'config', 'main', 'lambda', 'queries'),
          '^node_modules/@slack/',
          '^node_modules/@aws-sdk/client-(?!dynamodb)',
        ],
        pathNot: '^src/aws/sdk\\.ts$',
      },
    },
    {
      name: 'slack-never-calls-aws',
      severity: 'error',
      comment: 'The Slack layer goes through the engine and the queries it is given; it never calls AWS or the store.',
      from: { path: folder('slack') },
      to: {
        path: [
          others('steps', 'store', 'aws', 'health', 'config', 'main', 'lambda', 'queries'),
          '^node_modules/@aws-sdk/',
        ],
      },
    },
    {
      name: 'watch-decides-only',
      severity: 'error',
      comment: 'The watcher decides; AWS reads, the state store and Slack are given to it.',
      from: { path: folder('watch') },
      to: {
        path: [
          others('slack', 'steps', 'store', 'aws', 'config', 'main', 'lambda', 'queries'),
          '^node_modules/@(slack|aws-sdk)/',
        ],
      },
    },
    {
      name: 'health-reads-aws-only',
      severity: 'error',
      comment: 'The health reader reads AWS; it does not talk to Slack, the store or the watcher.',
      from: { path: folder('health') },
      to: { path: [others('slack', 'store', 'watch', 'config', 'main', 'lambda', 'queries'), '^node_modules/@slack/'] },
    },
    {
      name: 'aws-builds-clients-only',
      severity: 'error',
      comment: 'src/aws builds SDK clients and records requests; it knows no other part of the bot.',
      from: { path: folder('aws') },
      to: {
        path: others('slack', 'steps', 'store', 'engine', 'health', 'watch', 'config', 'main', 'lambda', 'queries'),
      },
    },
    {
      name: 'config-stands-alone',
      severity: 'error',
      comment: 'Configuration parsing depends on nothing but zod and the Region pattern.',
      from: { path: '^src/config\\.ts$' },
      to: { path: others('slack', 'steps', 'store', 'aws', 'health', 'watch', 'main', 'lambda', 'queries') },
    },
    {
      name: 'only-entry-points-wire',
      severity: 'error',
      comment: 'Only the entry points (main, lambda, cli) may import main.ts: it is the composition root.',
      from: { path: '^src/', pathNot: '^src/(main|lambda)\\.ts$|^src/cli/' },
      to: { path: '^src/main\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|dist-dev|dist-test|coverage)/' },
    tsPreCompilationDeps: true,
    preserveSymlinks: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
