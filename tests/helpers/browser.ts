// Real Chromium for end-to-end tests: Debian's /usr/bin/chromium driven by playwright-core.
// Every page is fenced to 127.0.0.1: requests elsewhere are recorded and aborted, so a test
// can both prove the UI stays local and never send traffic off the machine.

import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.URSA_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-quic',
  '--disable-sync',
];

/** A skip reason for node:test when there is no Chromium, else false. */
export function chromiumMissing(): string | false {
  return existsSync(CHROMIUM_PATH)
    ? false
    : `no Chromium at ${CHROMIUM_PATH} (install Debian's chromium or set URSA_CHROMIUM)`;
}

/**
 * Launches Chromium. Playwright gives each launch a new, empty user data dir in the temp
 * folder and deletes it on close, so no profile, cache or cookie leaks between runs.
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
}

/** Loopback only, or a URL that never touches the network (data:, blob:, about:). */
export function isLocalUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (['data:', 'blob:', 'about:'].includes(parsed.protocol)) return true;
  return (
    ['http:', 'https:', 'ws:', 'wss:'].includes(parsed.protocol) && parsed.hostname === '127.0.0.1'
  );
}

export interface TrackedPage {
  page: Page;
  context: BrowserContext;
  /** Every URL the page asked for, WebSockets included. */
  requests: string[];
  /** Requests that were not to 127.0.0.1, aborted before they left. */
  blocked: string[];
  /** Uncaught page errors and Content-Security-Policy violations. */
  errors: string[];
  dispose(): Promise<void>;
}

/**
 * @param setup runs on the new context before the page loads, for routes the test needs from
 *   the first request on (a WebSocket relay, say)
 */
export async function openTrackedPage(
  browser: Browser,
  url: string,
  viewport = { width: 1400, height: 860 },
  setup?: (context: BrowserContext) => Promise<void>,
): Promise<TrackedPage> {
  const context = await browser.newContext({ viewport, serviceWorkers: 'block' });
  const requests: string[] = [];
  const blocked: string[] = [];
  const errors: string[] = [];
  await context.route(
    (requestUrl) => !isLocalUrl(requestUrl.href),
    async (route) => {
      blocked.push(route.request().url());
      await route.abort('blockedbyclient');
    },
  );
  await setup?.(context);
  const page = await context.newPage();
  page.on('request', (request) => requests.push(request.url()));
  page.on('websocket', (socket) => requests.push(socket.url()));
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content.Security.Policy/i.test(message.text())) {
      errors.push(`CSP: ${message.text()}`);
    }
  });
  await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
  return {
    page,
    context,
    requests,
    blocked,
    errors,
    dispose: () => context.close(),
  };
}
