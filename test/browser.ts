/** Headless Chromium for the browser tests (Debian's, driven by playwright-core). */
import * as assert from 'assert';
import * as fs from 'fs';
import type { Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Flags for a closed network: without the background-networking ones Chromium keeps trying to reach Google's
 * hosts, and as root it needs --no-sandbox.
 */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Starts Chromium. Where it is absent the test is skipped, except in CI, where it must be there
 * (`npm run setup -- --for-tests` installs it).
 */
export async function launchChromium(context: Mocha.Context): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    if (process.env.CI) assert.fail('Chromium is missing: `npm run setup -- --for-tests` installs it');
    context.skip();
  }
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}

/** Page errors worth failing for: not the ones pages raise on their own (require.js, MathJax in nbconvert's HTML). */
export function pageErrorsOfOurs(errors: string[]): string[] {
  return errors.filter((e) => !/require|define|MathJax/i.test(e));
}
