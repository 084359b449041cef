// Browser helpers for the dashboard tests: Debian's chromium driven by playwright-core, offline.
//
// Contract: `launchBrowser()` starts a headless chromium (fresh profile, no network services, no sandbox
// so that it runs as root in CI) and resolves to a playwright Browser; the caller closes it.
// `openDashboard(browser, url, options)` opens the page in a new context and resolves to {page, context,
// problems}, where `problems` collects page errors, console errors and failed requests so a test can
// assert the page ran clean. `saveScreenshot(page, name)` writes tests/artifacts/<name>.png.
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = new URL('../artifacts/', import.meta.url).pathname;

const OFFLINE_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: OFFLINE_FLAGS });
}

export async function openDashboard(browser, url, { viewport = { width: 1366, height: 900 }, ...contextOptions } = {}) {
  const context = await browser.newContext({ viewport, ...contextOptions });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // A WebSocket torn down on purpose (offline, dropSocket) is reported by chromium as a console error.
    // Refused requests (404 of an optional route, 401 before the token, 4xx the page shows) are asserted on
    // the page itself; chromium's console line for them carries no URL to tell them apart.
    const expected = /WebSocket|ERR_INTERNET_DISCONNECTED|Failed to load resource: the server responded with a status of 4\d\d/;
    if (message.type() === 'error' && !expected.test(message.text())) {
      problems.push(`console: ${message.text()}`);
    }
  });
  await page.goto(url);
  return { page, context, problems };
}

export async function saveScreenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = `${ARTIFACTS}${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}

// The call rows the page shows for `number` (a locator), and helpers reading their data attributes.
export function rowsFor(page, number) {
  return page.locator('#calls tbody tr.call-row', { has: page.locator('td.number', { hasText: number }) });
}
