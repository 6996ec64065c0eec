// The pure parts of format judging: filename sanitizing, extensions, container sniffing.
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extensionOf, sanitizeFilename, sniffContainer } from '../../src/uploads/formats';
import { CONTAINERS, makeFlv, makePng, makeVideo } from '../helpers/media';

let media: string;
beforeAll(async () => {
  media = await mkdtemp(path.join(os.tmpdir(), 'media-'));
});
afterAll(() => rm(media, { recursive: true, force: true }));

describe('sanitizeFilename', () => {
  it.each([
    ['../../x.mp4', 'x.mp4'],
    ['/etc/passwd', 'passwd'],
    ['C:\\Users\\me\\clip.mov', 'clip.mov'],
    ['a.php%00.mp4', 'a.php.mp4'],
    ['a.php\u0000.mp4', 'a.php.mp4'],
    ['..', 'upload'],
    ['', 'upload'],
    ['  spaced   out .mkv ', 'spaced out .mkv'],
    ['what?<is>this*.webm', 'what__is_this_.webm'],
    ['\u202etxt.exe.mp4', 'txt.exe.mp4'],
    ['Café.mp4', 'Café.mp4'],
  ])('turns %j into %j', (raw, clean) => {
    expect(sanitizeFilename(raw)).toBe(clean);
  });

  it('keeps the extension when it shortens a long name to 200 characters', () => {
    const name = sanitizeFilename(`${'é'.repeat(300)}.webm`);
    expect(Array.from(name)).toHaveLength(200);
    expect(name.endsWith('.webm')).toBe(true);
  });
});

describe('extensionOf', () => {
  it.each([
    ['clip.MP4', 'mp4'],
    ['archive.tar.gz', 'gz'],
    ['noext', null],
    ['trailing.', null],
    ['weird.m p4', null],
  ])('reads %j as %j', (name, ext) => {
    expect(extensionOf(name)).toBe(ext);
  });
});

describe('sniffContainer', () => {
  it.each(CONTAINERS)('recognises a real %s by its first bytes', async (format) => {
    const head = (await readFile(await makeVideo(media, { format, seconds: 1 }))).subarray(0, 4096);
    expect(sniffContainer(head)).toEqual({ kind: 'video', format });
  });

  it.each([
    ['a PNG image', () => makePng(media).then((f) => readFile(f))],
    ['an FLV video', () => makeFlv(media).then((f) => readFile(f))],
    ['plain text', async () => Buffer.from('just some words\n')],
    ['JSON text', async () => Buffer.from('{"a": 1}')],
    ['a PDF document', async () => Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3', 'latin1')],
    ['a ZIP archive', async () => Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0])],
    ['an empty file (0 bytes)', async () => Buffer.alloc(0)],
  ])('describes %s', async (description, bytes) => {
    expect(sniffContainer(await bytes())).toEqual({ kind: 'other', description });
  });

  it('shows the first bytes of something it does not know', () => {
    expect(sniffContainer(Buffer.from([0, 1, 2, 3, 250, 251, 252, 253, 254]))).toEqual({
      kind: 'other',
      description: 'unrecognised binary data (first bytes: 00 01 02 03 fa fb fc fd)',
    });
  });
});
