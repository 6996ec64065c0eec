// PIPELINES_FILE is checked at start: every problem is named (file, stage or pipeline, field), and a
// bad file stops `vidq serve` with that message before anything is opened.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStageRegistry } from '../../src/pipeline/registry/index';
import { PipelinesFileError, readPipelinesFile } from '../../src/pipeline/registry/pipelines-file';

let dir: string;
let script: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-pipelines-file-'));
  script = path.join(dir, 'stage.sh');
  await fs.writeFile(script, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  await fs.writeFile(path.join(dir, 'not-executable.sh'), '#!/bin/sh\n', { mode: 0o644 });
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

async function problemsWith(content: unknown): Promise<string[]> {
  const file = path.join(dir, `pipelines-${Math.random().toString(36).slice(2)}.json`);
  await fs.writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  try {
    loadStageRegistry({ pipelinesFile: file });
  } catch (error) {
    expect(error).toBeInstanceOf(PipelinesFileError);
    expect((error as Error).message).toContain(`PIPELINES_FILE ${file}:`);
    return (error as PipelinesFileError).problems;
  }
  throw new Error('the file was accepted');
}

const stage = (extra: Record<string, unknown> = {}) => ({ command: ['./stage.sh', '{input}'], ...extra });

describe('PIPELINES_FILE', () => {
  it('adds its stages and pipelines beside the built-in ones', async () => {
    const file = path.join(dir, 'good.json');
    await fs.writeFile(
      file,
      JSON.stringify({
        stages: { mine: stage({ optionsSchema: { type: 'object', properties: { n: { type: 'integer' } } } }) },
        pipelines: { both: { stages: ['probe', 'mine'] } },
      }),
    );
    const registry = loadStageRegistry({ pipelinesFile: file, jobStages: ['probe', 'transcode'] });
    expect(registry.pipelines.map((p) => [p.name, p.stages])).toEqual([
      ['default', ['probe', 'transcode']], // JOB_STAGES still narrows the default pipeline
      ['hls', ['probe', 'thumbnails', 'hls']],
      ['both', ['probe', 'mine']],
    ]);
    expect(registry.stage('mine')).toMatchObject({ builtIn: false, optionsSchema: { type: 'object' } });
  });

  it.each([
    ['a missing file', null, ['no such file']],
    ['a file that is not JSON', '{ "stages": ', [expect.stringMatching(/^not valid JSON: /)]],
    ['an unknown top-level key', { stage: {} }, [expect.stringMatching(/^\(top level\): Unrecognized key: "stage"/)]],
    ['a stage without a command', { stages: { x: { description: 'no command' } } }, [expect.stringMatching(/^stages\.x\.command: /)]],
    ['an empty command', { stages: { x: { command: [] } } }, ['stages.x.command: must name a program']],
    ['a misspelt stage field', { stages: { x: stage({ timeout: 5 }) } }, [expect.stringMatching(/^stages\.x: Unrecognized key: "timeout"/)]],
    ['a bad timeoutSeconds', { stages: { x: stage({ timeoutSeconds: -1 }) } }, ['stages.x.timeoutSeconds: must be positive']],
    // Past 2^31-1 ms a timer fires at once: every run of the stage would be TIMED_OUT in a millisecond.
    [
      'a timeoutSeconds past 24 h',
      { stages: { x: stage({ timeoutSeconds: 2_147_484 }) } },
      [expect.stringMatching(/^stages\.x\.timeoutSeconds: must be at most 86400 \(24 h/)],
    ],
    [
      'a timeoutSeconds just past 24 h',
      { stages: { x: stage({ timeoutSeconds: 86_401 }) } },
      [expect.stringMatching(/^stages\.x\.timeoutSeconds: must be at most 86400/)],
    ],
    ['a bad stage name', { stages: { 'Bad Name': stage() } }, [expect.stringMatching(/^stages\.Bad Name: must be lowercase letters/)]],
    [
      'a program that does not exist',
      { stages: { x: { command: ['./missing.sh'] } } },
      [expect.stringMatching(/^stages\.x\.command\[0\]: program \/.*\/missing\.sh does not exist$/)],
    ],
    [
      'a program that is not executable',
      { stages: { x: { command: ['./not-executable.sh'] } } },
      [expect.stringMatching(/^stages\.x\.command\[0\]: program .* is not executable/)],
    ],
    [
      'a program not on PATH',
      { stages: { x: { command: ['no-such-program-vidq'] } } },
      ['stages.x.command[0]: program "no-such-program-vidq" was not found on PATH'],
    ],
    [
      'a bad optionsSchema',
      { stages: { x: stage({ optionsSchema: { type: 'object', properties: { n: { type: 'integr' } } } }) } },
      [expect.stringMatching(/^stages\.x\.optionsSchema: not a valid JSON Schema: .*type/)],
    ],
    [
      'an optionsSchema with an unknown keyword',
      { stages: { x: stage({ optionsSchema: { type: 'object', propertys: {} } }) } },
      [expect.stringMatching(/^stages\.x\.optionsSchema: not a valid JSON Schema: .*propertys/)],
    ],
    ['a stage named like a built-in one', { stages: { transcode: stage() } }, ['stages.transcode: "transcode" is a built-in stage; give yours another name']],
    [
      'a pipeline named like a built-in one',
      { pipelines: { default: { stages: ['probe'] } } },
      ['pipelines.default: "default" is a built-in pipeline; give yours another name'],
    ],
    [
      'an unknown stage in a pipeline',
      { pipelines: { p: { stages: ['probe', 'nope'] } } },
      [expect.stringMatching(/^pipelines\.p\.stages\[1\]: unknown stage "nope" \(known: probe, /)],
    ],
    ['a stage listed twice', { pipelines: { p: { stages: ['probe', 'probe'] } } }, ['pipelines.p.stages[1]: "probe" is listed twice']],
    ['an empty pipeline', { pipelines: { p: { stages: [] } } }, ['pipelines.p.stages: must list at least one stage']],
  ])('names %s', async (_what, content, expected) => {
    if (content === null) {
      const missing = path.join(dir, 'missing.json');
      expect(() => loadStageRegistry({ pipelinesFile: missing })).toThrow(`PIPELINES_FILE ${missing}:\n  - no such file`);
      return;
    }
    expect(await problemsWith(content)).toEqual(expected);
  });

  it('accepts a timeoutSeconds of up to 24 h', async () => {
    const file = path.join(dir, 'longest.json');
    await fs.writeFile(file, JSON.stringify({ stages: { long: stage({ timeoutSeconds: 86_400 }) } }));
    const loaded = readPipelinesFile(file, { stages: new Set(), pipelines: new Set() });
    expect(loaded.stages[0]).toMatchObject({ name: 'long', timeoutSeconds: 86_400 });
  });

  it('lists every problem at once', async () => {
    const later = await problemsWith({ stages: { a: { command: ['./missing.sh'] } }, pipelines: { p: { stages: ['zzz'] } } });
    expect(later).toEqual([expect.stringMatching(/^stages\.a\.command\[0\]/), expect.stringMatching(/^pipelines\.p\.stages\[0\]: unknown stage "zzz"/)]);
  });

  it('stops `vidq serve` with the message and exit code 1, before anything is started', async () => {
    const file = path.join(dir, 'bad-for-serve.json');
    await fs.writeFile(file, JSON.stringify({ pipelines: { p: { stages: ['nope'] } } }));
    const root = path.resolve(import.meta.dirname, '../..');
    const child = spawn(process.execPath, ['bin/vidq.js', 'serve'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PIPELINES_FILE: file, DATA_DIR: path.join(dir, 'data'), PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(out).toContain(`PIPELINES_FILE ${file}:\n  - pipelines.p.stages[0]: unknown stage "nope"`);
    expect(out).not.toMatch(/\n\s+at /); // a message, not a stack trace
    await expect(fs.access(path.join(dir, 'data'))).rejects.toThrow(); // nothing was started
  });
});
