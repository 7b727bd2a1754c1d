/**
 * zod loads all 63 of its message locales when it is first imported (about 25 ms of every start,
 * half of zod's cost: docs/BENCHMARKS.md). The bot's messages are its own, and zod's are English,
 * its default, which its schemas load by themselves. Imported before anything loads zod, this
 * marks zod's locale index as loaded with a namespace that loads the real one only if a locale is
 * asked for (`z.locales.de()`). Without node_modules (the Lambda bundle, which leaves the locales
 * out when it is built: infra/bundle.ts) there is nothing to do.
 */
import Module from 'node:module';

function englishOnly(): void {
  let file: string;
  try {
    file = require.resolve('zod/v4/locales');
  } catch {
    return; // bundled: no zod package to resolve
  }
  if (require.cache[file]) return; // zod is loaded already
  let real: object | undefined;
  const load = (): object =>
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the real index, on first use
    real ?? (delete require.cache[file], (real = require(file) as object));
  const index = new Module(file);
  index.filename = file;
  index.loaded = true;
  index.exports = new Proxy(
    { __esModule: true },
    {
      get: (t, key) => (key === '__esModule' ? true : Reflect.get(load(), key)),
      has: (t, key) => key in load(),
      ownKeys: () => Reflect.ownKeys(load()),
      getOwnPropertyDescriptor: (t, key) => {
        const d = Reflect.getOwnPropertyDescriptor(load(), key);
        return d && { ...d, configurable: true }; // the target has none of the real keys
      },
    },
  );
  require.cache[file] = index;
}

englishOnly();
