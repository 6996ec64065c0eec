// External stages from PIPELINES_FILE, end to end on a real vidq: real shell scripts
// (test/pipeline/fixtures/stages) speak the stage protocol; every exit-code path, progress, outputs,
// stage options, cancel and timeout (the whole process group gone), and the `pipelines` query.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isRunning } from '../helpers/processes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { gql } from '../helpers/graphql';
import { ERROR_CATALOG } from '../../src/errors/catalog';
import { eventsOfJob, seedVideo, waitFor, waitForStatus } from '../helpers/jobs';
import { makeVideo } from '../helpers/media';

const FIXTURES = path.resolve(import.meta.dirname, 'fixtures/stages');
let app: TestApp;
let user: TestUser;
let dir: string;
let clip: string;

const SUBMIT = `mutation($input: SubmitJobInput!) {
  submitJob(input: $input) {
    __typename
    ... on SubmitJobSuccess { job { id pipeline stageOptions stages { name } } }
    ... on InvalidInputError { fieldErrors { path message } }
    ... on Error { code message }
  }
}`;

async function submit(pipeline: string, stageOptions?: Record<string, unknown>) {
  const video = await seedVideo(app, user.id, clip);
  const res = await gql(app.url, user.key, SUBMIT, { input: { videoId: video.id, pipeline, stageOptions } });
  const result = res.body.data.submitJob;
  if (result.__typename !== 'SubmitJobSuccess') throw new Error(JSON.stringify(result));
  return result.job as { id: string; pipeline: string; stageOptions: Record<string, unknown>; stages: Array<{ name: string }> };
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-stages-'));
  // The stages inherit the service's environment: where the test scripts keep their markers.
  process.env.FLAKY_DIR = dir;
  process.env.HANG_PIDS_DIR = dir;
  app = await startTestApp({
    env: { PIPELINES_FILE: path.join(FIXTURES, 'pipelines.json'), JOB_MAX_RETRIES: '2', JOB_RETRY_DELAY_SECONDS: '1', SCRATCH_DIR: path.join(dir, 'scratch') },
  });
  user = await app.createUser({ credits: 1000 });
  clip = await makeVideo(dir, { format: 'mp4', seconds: 1, name: 'clip' });
});
afterAll(async () => {
  await app?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('pipelines and stage options', () => {
  it('the pipelines query lists the built-in and the file’s pipelines with their stages', async () => {
    const res = await gql(app.url, user.key, '{ pipelines { name description stages { name builtIn description optionsSchema } } }');
    const pipelines = res.body.data.pipelines as Array<{ name: string; stages: Array<{ name: string; builtIn: boolean; optionsSchema: unknown }> }>;
    expect(pipelines.map((p) => p.name)).toEqual(['default', 'hls', 'annotated', 'exits', 'flaky', 'hangs', 'slow', 'crashy']);
    expect(pipelines[0].stages.map((s) => s.name)).toEqual(['probe', 'thumbnails', 'transcode', 'audio', 'scenes']);
    const annotated = pipelines.find((p) => p.name === 'annotated')!;
    expect(annotated.stages).toEqual([
      expect.objectContaining({ name: 'probe', builtIn: true, optionsSchema: null }),
      expect.objectContaining({ name: 'annotate', builtIn: false, description: 'Test stage that follows the whole protocol' }),
    ]);
    expect(annotated.stages[1].optionsSchema).toMatchObject({ properties: { label: { type: 'string' } } });
  });

  it('refuses an unknown pipeline and options that break a stage’s schema, naming each field', async () => {
    const video = await seedVideo(app, user.id, clip);
    const refused = async (input: Record<string, unknown>) => {
      const res = await gql(app.url, user.key, SUBMIT, { input: { videoId: video.id, ...input } });
      expect(res.body.data.submitJob.__typename).toBe('InvalidInputError');
      return res.body.data.submitJob.fieldErrors as Array<{ path: string[]; message: string }>;
    };
    const unknown = await refused({ pipeline: 'nope' });
    expect(unknown).toEqual([
      { path: ['input', 'pipeline'], message: expect.stringContaining('unknown pipeline "nope"; this deployment runs: default, hls, annotated') },
    ]);
    const bad = await refused({ pipeline: 'annotated', stageOptions: { annotate: { label: 'far too long a label', level: 0, extra: 1 } } });
    expect(bad.map((e) => e.path.join('.')).sort()).toEqual([
      'input.stageOptions.annotate.extra',
      'input.stageOptions.annotate.label',
      'input.stageOptions.annotate.level',
    ]);
    expect(bad.find((e) => e.path.at(-1) === 'label')!.message).toMatch(/must NOT have more than 10 characters/);
    const elsewhere = await refused({ pipeline: 'annotated', stageOptions: { transcode: {} } });
    expect(elsewhere).toEqual([{ path: ['input', 'stageOptions', 'transcode'], message: expect.stringContaining('not a stage of pipeline "annotated"') }]);
    const none = await refused({ pipeline: 'annotated', stageOptions: { probe: { deep: true } } });
    expect(none).toEqual([{ path: ['input', 'stageOptions', 'probe'], message: 'stage "probe" takes no options' }]);
    const missing = await refused({ pipeline: 'exits' });
    expect(missing).toEqual([{ path: ['input', 'stageOptions', 'exitwith', 'code'], message: "must have required property 'code'" }]);
    const [{ count }] = await app.services.database.sql`select count(*)::int as count from jobs where video_id = ${video.id}`;
    expect(count).toBe(0);
  });
});

describe('an external stage', () => {
  it('runs with its placeholders, options and env; its progress, result.json and files become the stage’s', async () => {
    const job = await submit('annotated', { annotate: { label: 'hi' } });
    expect(job.pipeline).toBe('annotated');
    expect(job.stages.map((s) => s.name)).toEqual(['probe', 'annotate']);
    expect(job.stageOptions).toEqual({ probe: {}, annotate: { label: 'hi', level: 3 } }); // the schema's default, stored
    const done = await waitForStatus(app, job.id, ['COMPLETED', 'FAILED']);
    expect(done.status, JSON.stringify(done.error)).toBe('COMPLETED');

    const res = await gql(
      app.url,
      user.key,
      `query($id: ID!) { jobOutput(jobId: $id) { ... on JobOutput { results files { kind stage url contentType sizeBytes } } } job(id: $id) { ... on Job { pipeline stages { name status output } } } }`,
      { id: job.id },
    );
    const output = res.body.data.jobOutput;
    expect(output.results.annotate).toMatchObject({ greeting: 'hello from pipelines.json', options: { label: 'hi', level: 3 } });
    expect(output.results.annotate.inputBytes).toBe((await fs.stat(clip)).size);
    const files = output.files.filter((f: { stage: string }) => f.stage === 'annotate');
    expect(files.map((f: { kind: string; contentType: string }) => [f.kind, f.contentType])).toEqual([
      ['annotate', 'application/octet-stream'],
      ['annotate', 'text/plain; charset=utf-8'],
    ]);
    const label = files.find((f: { contentType: string }) => f.contentType.startsWith('text/'))!;
    expect(await (await fetch(label.url)).text()).toBe('label file\n');
    // Nothing from its working directory was collected, and nothing of the attempt is left in scratch.
    expect(JSON.stringify(output.files)).not.toContain('left-in-cwd');
    expect(await fs.readdir(path.join(dir, 'scratch', 'jobs')).catch(() => [])).not.toContain(job.id);

    const events = await eventsOfJob(app, job.id);
    const progress = events.filter((e) => e.type === 'PROGRESS' && e.stage === 'annotate').map((e) => e.data?.stageProgress);
    expect(progress).toContain(0.75);
  });

  it.each([
    [65, 'VIDEO_CORRUPT'],
    [64, 'INVALID_INPUT'],
    [3, 'INTERNAL_ERROR'],
  ])('exit %i fails the job with %s at once, the stderr tail in the detail', async (code, errorCode) => {
    const job = await submit('exits', { exitwith: { code } });
    const done = await waitForStatus(app, job.id, ['FAILED', 'COMPLETED']);
    expect(done.status).toBe('FAILED');
    expect(done.attempt).toBe(1);
    expect(done.error).toMatchObject({ code: errorCode, stage: 'exitwith', retryable: false });
    expect(done.error!.detail).toContain('decoder said: something is wrong');
    expect(done.error!.detail).toContain(`exiting with ${code}`);
    // What to do next quotes the stage for a refusal of the video or its options, not vidq's own decoder.
    const { nextStep } = (await gql(app.url, user.key, `query($id: ID!) { job(id: $id) { ... on Job { nextStep } } }`, { id: job.id })).body.data.job;
    if (code === 3) expect(nextStep).toBe(`Failed: ${ERROR_CATALOG.INTERNAL_ERROR.description}`);
    else
      expect(nextStep).toBe(
        `Failed: ${done.error!.detail.replace(/\.$/, '')}. Submit a video this stage can use, or choose another pipeline or stageOptions; retrying it unchanged fails the same way.`,
      );
  });

  it.each(['exit75', 'signal'])('a transient failure (%s) is retried at the stage and then completes', async (how) => {
    const job = await submit('flaky', { flaky: { how } });
    const done = await waitForStatus(app, job.id, ['COMPLETED', 'FAILED']);
    expect(done.status, JSON.stringify(done.error)).toBe('COMPLETED');
    expect(done.attempt).toBe(2);
    const retry = (await eventsOfJob(app, job.id)).find((e) => e.type === 'RETRY_SCHEDULED')!;
    expect(retry.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true, stage: 'flaky' });
    expect(retry.error!.detail).toMatch(how === 'signal' ? /killed by SIGKILL/ : /asked to be retried \(exit 75\)/);
  });

  it.each([false, true])('cancel stops the whole process group (ignoring SIGTERM: %s)', async (ignoreTerm) => {
    const job = await submit('hangs', { hang: { ignoreTerm } });
    const pidsFile = path.join(dir, job.id);
    const [shell, child] = (await waitFor('the stage to start', () => fs.readFile(pidsFile, 'utf8').catch(() => null))).trim().split(' ').map(Number);
    expect(isRunning(shell) && isRunning(child)).toBe(true);
    const asked = Date.now();
    const res = await gql(app.url, user.key, 'mutation($id: ID!) { cancelJob(id: $id) { __typename } }', { id: job.id });
    expect(res.body.data.cancelJob.__typename).toBe('CancelJobSuccess');
    await waitForStatus(app, job.id, ['CANCELLED']);
    await waitFor('the stage and its child to be gone', async () => !isRunning(shell) && !isRunning(child), 10_000, 50);
    const gone = Date.now() - asked;
    expect(gone).toBeLessThan(9000); // at most SIGTERM + 5 s + a sweep, with room for a loaded machine
    if (ignoreTerm) expect(gone).toBeGreaterThanOrEqual(4500); // only the SIGKILL 5 s later could stop it
  });

  it('past its own timeoutSeconds the job is TIMED_OUT (JOB_TIMEOUT), not retried, and the stage is gone', async () => {
    const job = await submit('slow');
    const done = await waitForStatus(app, job.id, ['TIMED_OUT', 'FAILED', 'COMPLETED'], 20_000);
    expect(done.status).toBe('TIMED_OUT');
    expect(done.attempt).toBe(1);
    expect(done.error).toMatchObject({ code: 'JOB_TIMEOUT', retryable: false });
    expect(done.error!.detail).toContain('ran past its timeoutSeconds of 1 s');
    const [shell, child] = (await fs.readFile(path.join(dir, job.id), 'utf8')).trim().split(' ').map(Number);
    await waitFor('the stage and its child to be gone', async () => !isRunning(shell) && !isRunning(child), 10_000, 50);
  });
});
