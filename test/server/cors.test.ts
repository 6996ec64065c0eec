// CORS: downloads (/files) may be used by any web app (the signed URLs are capabilities; FILES_CORS_ORIGIN),
// /graphql only by the origins GRAPHQL_CORS_ORIGINS names (none by default). Checked over HTTP and with
// a cross-origin page in Chromium: a <video crossorigin> plays a download and draws untainted to a canvas.
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedDownloadUrl } from '../../src/downloads/urls';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { startBrowser, type TestBrowser } from '../helpers/browser';
import { jobOutputDir } from '../helpers/jobs';
import { makeVideo } from '../helpers/media';
import { insertJobRow, insertVideoRow } from '../helpers/rows';

let app: TestApp;
let user: TestUser;
let dir: string;
let pageServer: http.Server;
let pageOrigin: string;
let downloadUrl: string;
let browser: TestBrowser;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-cors-'));
  const clip = await makeVideo(dir, { format: 'webm', seconds: 1 });
  // The web app's own origin: one page, nothing else.
  pageServer = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>app</title><body></body>');
  });
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;
  app = await startTestApp({ env: { GRAPHQL_CORS_ORIGINS: pageOrigin } });
  user = await app.createUser();

  const video = await insertVideoRow(app.services.database.db, user.id);
  const jobId = await insertJobRow(app.services.database.db, user.id, video.id, { status: 'COMPLETED', outputFormat: 'WEBM' });
  await fs.mkdir(jobOutputDir(app, jobId), { recursive: true });
  await fs.copyFile(clip, path.join(jobOutputDir(app, jobId), 'video.webm'));
  downloadUrl = await signedDownloadUrl(app.services.database.db, app.url, jobId, 'video.webm');
  browser = await startBrowser();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await new Promise((resolve) => pageServer?.close(resolve));
  await fs.rm(dir, { recursive: true, force: true });
});

describe('downloads', () => {
  it('answer any origin, whole and by range, with the headers a player reads exposed, and a preflight for Range', async () => {
    const whole = await fetch(downloadUrl, { headers: { origin: 'https://elsewhere.example' } });
    expect(whole.status).toBe(200);
    expect(whole.headers.get('access-control-allow-origin')).toBe('*');
    const ranged = await fetch(downloadUrl, { headers: { origin: 'https://elsewhere.example', range: 'bytes=0-99' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('access-control-allow-origin')).toBe('*');
    expect(ranged.headers.get('access-control-expose-headers')).toBe('Content-Range, Content-Length, Accept-Ranges');
    const preflight = await fetch(downloadUrl, {
      method: 'OPTIONS',
      headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'range' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('Range');
    expect(preflight.headers.get('access-control-allow-methods')).toBe('GET, HEAD');
  });

  it('play in a <video crossorigin> of another origin, and draw to a canvas that stays readable', async () => {
    const guarded = await browser.openPage(pageOrigin, { alsoAllow: [app.url] });
    try {
      await guarded.page.goto(`${pageOrigin}/`);
      const outcome = await guarded.page.evaluate(async (src) => {
        const video = document.createElement('video');
        video.crossOrigin = 'anonymous';
        video.muted = true;
        video.src = src;
        document.body.append(video);
        await new Promise<void>((resolve, reject) => {
          video.onloadeddata = () => resolve();
          video.onerror = () => reject(new Error(`video error ${video.error?.code}: ${video.error?.message}`));
        });
        const canvas = document.createElement('canvas');
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        canvas.getContext('2d')!.drawImage(video, 0, 0);
        return { width: video.videoWidth, pixels: canvas.toDataURL('image/png').length }; // throws if tainted
      }, downloadUrl);
      expect(outcome.width).toBeGreaterThan(0);
      expect(outcome.pixels).toBeGreaterThan(100);
      expect(guarded.pageErrors).toEqual([]);
    } finally {
      await guarded.close();
    }
  });
});

describe('/graphql', () => {
  it('answers the origins GRAPHQL_CORS_ORIGINS names, preflight included, and no other', async () => {
    const preflight = await fetch(`${app.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: pageOrigin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe(pageOrigin);
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    const other = await fetch(`${app.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    expect(other.headers.get('access-control-allow-origin')).not.toBe('https://elsewhere.example');
    expect(other.headers.get('access-control-allow-origin')).not.toBe('*');
  });

  it('is called by a page of an allowed origin with its API key', async () => {
    const guarded = await browser.openPage(pageOrigin, { alsoAllow: [app.url] });
    try {
      await guarded.page.goto(`${pageOrigin}/`);
      const body = await guarded.page.evaluate(
        async ({ url, key }) => {
          const res = await fetch(`${url}/graphql`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ query: '{ viewer { id } }' }),
          });
          return res.json();
        },
        { url: app.url, key: user.key },
      );
      expect(body).toEqual({ data: { viewer: { id: user.id } } });
    } finally {
      await guarded.close();
    }
  });

  it('sends no CORS headers at all by default', async () => {
    const plain = await startTestApp({ database: app.database, dataDir: app.dataDir });
    try {
      const preflight = await fetch(`${plain.url}/graphql`, {
        method: 'OPTIONS',
        headers: { origin: pageOrigin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      const post = await fetch(`${plain.url}/graphql`, {
        method: 'POST',
        headers: { origin: pageOrigin, authorization: `Bearer ${user.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ viewer { id } }' }),
      });
      expect(post.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await plain.close();
    }
  });
});
