// What an external stage started lives on after its worker is SIGKILLed (only the stage's leader dies with
// it). When the job is handed on by a worker on another machine, nobody there can end those processes:
// the next worker to start on this machine (and its sweep each minute) ends those of attempts that are
// over, of its own deployment only.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploymentTag, killLeftoverStageProcesses } from '../../src/jobs/crash-recovery';
import { startTestApp, type TestApp } from '../helpers/app';
import { gql } from '../helpers/graphql';
import { seedVideo, SUBMIT, waitFor } from '../helpers/jobs';
import { makeVideo } from '../helpers/media';
import { isRunning } from '../helpers/processes';

const FIXTURES = path.resolve(import.meta.dirname, '../pipeline/fixtures/stages');
let app: TestApp;
let dir: string;
const started: ChildProcess[] = [];

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-leftovers-'));
  process.env.HANG_PIDS_DIR = dir;
  app = await startTestApp({ env: { PIPELINES_FILE: path.join(FIXTURES, 'pipelines.json') } });
});
afterAll(async () => {
  for (const child of started) child.kill('SIGKILL');
  await app?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

/** A process as a stage's leftover child looks: a long sleep with the stage's variables. */
function leftover(env: Record<string, string>): number {
  const child = spawn('sleep', ['300'], { env: { ...process.env, ...env }, stdio: 'ignore' });
  started.push(child);
  return child.pid!;
}

describe('the deployment tag', () => {
  it('tells apart databases on different servers, also behind Unix sockets, and leaves out the credentials', () => {
    const tag = (url: string) => deploymentTag({ url });
    expect(tag('postgres://vidq:secret@localhost/vidq?host=/run/pg-a')).not.toBe(tag('postgres://vidq:secret@localhost/vidq?host=/run/pg-b'));
    expect(tag('postgres://vidq@db:5432/vidq')).not.toBe(tag('postgres://vidq@db:5432/other'));
    expect(tag('postgres://vidq:one@db:5432/vidq?password=x&sslmode=require')).toBe(tag('postgres://other:two@db:5432/vidq?sslmode=require'));
  });
});

describe('stage processes left by attempts that are over', () => {
  it('are ended, those of this deployment only; a running attempt’s are left alone', async () => {
    const user = await app.createUser({ credits: 100 });
    const clip = await makeVideo(dir, { format: 'mp4', seconds: 1, name: 'clip' });
    const video = await seedVideo(app, user.id, clip);
    const jobId: string = (await gql(app.url, user.key, SUBMIT, { input: { videoId: video.id, pipeline: 'hangs' } })).body.data.submitJob.job.id;
    const pids = await waitFor('the stage to run', async () => (await fs.readFile(path.join(dir, jobId), 'utf8').catch(() => '')).trim());
    const [leader, child] = pids.split(' ').map(Number);
    // A real stage's processes carry the deployment's tag.
    const tag = deploymentTag(app.services.database);
    expect((await fs.readFile(`/proc/${child}/environ`, 'latin1')).split('\0')).toContain(`VIDQ_INSTANCE=${tag}`);

    const ofFinishedJob = leftover({ VIDQ_JOB_ID: 'job_finished01', VIDQ_ATTEMPT: '1', VIDQ_INSTANCE: tag });
    const ofEarlierAttempt = leftover({ VIDQ_JOB_ID: jobId, VIDQ_ATTEMPT: '0', VIDQ_INSTANCE: tag });
    const ofAnotherDeployment = leftover({ VIDQ_JOB_ID: 'job_finished01', VIDQ_ATTEMPT: '1', VIDQ_INSTANCE: 'another0deploymt' });

    expect((await killLeftoverStageProcesses(app.services)).sort()).toEqual([ofFinishedJob, ofEarlierAttempt].sort());
    await waitFor('the leftovers to go', async () => !isRunning(ofFinishedJob) && !isRunning(ofEarlierAttempt), 5000);
    expect(isRunning(ofAnotherDeployment)).toBe(true);
    expect(isRunning(leader) && isRunning(child)).toBe(true); // the job's running attempt

    await gql(app.url, user.key, 'mutation($id: ID!) { cancelJob(id: $id) { __typename } }', { id: jobId });
    await waitFor('the cancelled stage to stop', async () => !isRunning(leader) && !isRunning(child), 15_000);
  });
});
