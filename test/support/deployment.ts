import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleLambda } from '../../infra/bundle';

/** The bundle that `npm run bundle` would upload, built into a fresh folder. */
export async function freshBundle(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'idc-bundle-'));
  await bundleLambda(dir);
  return dir;
}

export { synthesizedLambdaEnv } from '../../dev/deployment';
