// A real browser for tests: Debian's Chromium driven by playwright-core. Each page is kept to one
// origin: every request (HTTP, worker, WebSocket) that tries to leave it is blocked and recorded, and
// console and page errors are collected, so a test can assert "nothing left the origin" and "no errors".
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags that work on this kind of machine (no GPU, no sandbox, no network beyond loopback). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface GuardedPage {
  page: Page;
  /** The only origin the page may reach, e.g. "http://127.0.0.1:4000". */
  origin: string;
  /** Every request the page and its workers made, in order ("GET http://…"), blocked ones included. */
  requests: string[];
  /** URLs of the requests that tried to leave the origin (each was blocked). */
  offOriginRequests: string[];
  /** Console messages of type "error" (the page's and its workers'), "Failed to load resource" included. */
  consoleErrors: string[];
  /** Uncaught exceptions and unhandled rejections in the page. */
  pageErrors: string[];
  close(): Promise<void>;
}

export interface TestBrowser {
  /**
   * A new tab kept to `origin` (navigate it yourself: `page.goto(origin + '/path')`). The origin's
   * storage (localStorage, IndexedDB, cookies, caches…) is emptied first, so pages of one browser do
   * not see each other's state unless they are open at the same time.
   */
  openPage(origin: string, opts?: { alsoAllow?: string[] }): Promise<GuardedPage>;
  close(): Promise<void>;
}

/** ws://host:port and http://host:port are one origin for our purpose (the same server). */
function originOf(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const scheme = { 'ws:': 'http:', 'wss:': 'https:' }[parsed.protocol] ?? parsed.protocol;
  if (scheme !== 'http:' && scheme !== 'https:') return null; // data:, blob:, about: stay in the page
  return `${scheme}//${parsed.host}`;
}

function leavesOrigin(url: string, allowed: ReadonlySet<string>): boolean {
  const target = originOf(url);
  return target !== null && !allowed.has(target);
}

export class ChromiumMissingError extends Error {
  constructor(executablePath: string) {
    super(
      `Chromium is not installed at ${executablePath}: the browser tests need Debian's \`chromium\` package ` +
        '(apt-get install -y chromium; .ci/run installs it when it is missing).',
    );
    this.name = 'ChromiumMissingError';
  }
}

/** Starts headless Chromium with a fresh profile directory, removed by close(). Throws when Chromium is missing. */
export async function startBrowser(opts: { executablePath?: string } = {}): Promise<TestBrowser> {
  const executablePath = opts.executablePath ?? CHROMIUM_PATH;
  if (!existsSync(executablePath)) throw new ChromiumMissingError(executablePath);
  const userDataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1280, height: 900 },
    });
  } catch (error) {
    await fs.rm(userDataDir, { recursive: true, force: true });
    throw error;
  }
  // A persistent context opens with one blank tab; openPage makes its own.
  for (const page of context.pages()) await page.close();

  return {
    async openPage(originUrl: string, opts: { alsoAllow?: string[] } = {}) {
      const origin = originOf(originUrl);
      if (!origin) throw new Error(`not an http(s) origin: ${originUrl}`);
      // Other origins the test itself serves (a cross-origin page's API): reachable, and not counted.
      const allowed = new Set([origin, ...(opts.alsoAllow ?? []).map((url) => originOf(url)!)]);
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('Storage.clearDataForOrigin', { origin, storageTypes: 'all' });
      await cdp.detach();

      const guarded: GuardedPage = {
        page,
        origin,
        requests: [],
        offOriginRequests: [],
        consoleErrors: [],
        pageErrors: [],
        close: () => page.close(),
      };
      const record = (url: string) => {
        if (leavesOrigin(url, allowed) && !guarded.offOriginRequests.includes(url)) guarded.offOriginRequests.push(url);
      };
      // Seen for every request of the page and its dedicated workers, blocked or not.
      page.on('request', (request) => {
        guarded.requests.push(`${request.method()} ${request.url()}`);
        record(request.url());
      });
      page.on('websocket', (socket) => {
        guarded.requests.push(`WEBSOCKET ${socket.url()}`);
        record(socket.url());
      });
      await page.route(
        (url) => leavesOrigin(url.href, allowed),
        (route) => {
          record(route.request().url());
          return route.abort('blockedbyclient');
        },
      );
      await page.routeWebSocket(
        (url) => leavesOrigin(url.href, allowed),
        (socket) => {
          record(socket.url());
          return socket.close({ code: 1008, reason: 'blocked: leaves the origin' });
        },
      );
      const onConsole = (message: { type(): string; text(): string }) => {
        if (message.type() === 'error') guarded.consoleErrors.push(message.text());
      };
      page.on('console', onConsole);
      page.on('worker', (worker) => worker.on('console', onConsole));
      page.on('pageerror', (error) => guarded.pageErrors.push(`${error.name}: ${error.message}`));
      return guarded;
    },
    async close() {
      try {
        await context.close();
      } finally {
        await fs.rm(userDataDir, { recursive: true, force: true });
      }
    },
  };
}
