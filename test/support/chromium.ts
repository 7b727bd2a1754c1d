import { existsSync } from 'node:fs';
import chromium from '@sparticuz/chromium';
import { chromium as playwright, type Browser } from 'playwright-core';

/**
 * Launches headless Chromium for the browser tests. The binary comes from `npm ci`
 * (`@sparticuz/chromium`, unpacked to the temp folder on first use); `CHROMIUM_PATH` overrides it.
 */
export async function launchChromium(): Promise<Browser> {
  const override = process.env.CHROMIUM_PATH;
  if (override) {
    if (!existsSync(override))
      throw new Error(`CHROMIUM_PATH=${override} does not exist; unset it to use the Chromium that npm ci installed`);
    return playwright.launch({
      executablePath: override,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update'],
    });
  }
  return playwright.launch({ executablePath: await chromium.executablePath(), args: chromium.args });
}
