// video(id), videos(first, after, ownerId) and deleteVideo(id) on videos uploaded over HTTP.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { gql } from '../helpers/graphql';
import { makeVideo } from '../helpers/media';
import { result, storedFileNames, upload, useOwnTmpdir, VIDEO_FIELDS } from '../helpers/upload';

const ERROR = '... on Error { message code detail retryable }';

let app: TestApp;
let alice: TestUser;
let bob: TestUser;
let admin: TestUser;
let media: string;
let clip: string;
let tmp: Awaited<ReturnType<typeof useOwnTmpdir>>;
/** Alice's videos, oldest first. */
const aliceVideos: string[] = [];
let bobVideo: string;

const VIDEO = `query Video($id: ID!) { video(id: $id) { __typename ... on Video { ${VIDEO_FIELDS} } ${ERROR} } }`;
const VIDEOS = `
  query Videos($first: Int, $after: String, $ownerId: ID) {
    videos(first: $first, after: $after, ownerId: $ownerId) {
      __typename
      ... on VideoConnection { nodes { id owner { id } } pageInfo { hasNextPage endCursor } }
      ${ERROR}
      ... on InvalidInputError { fieldErrors { path message } }
    }
  }`;
const DELETE = `mutation Delete($id: ID!) { deleteVideo(id: $id) { __typename ... on DeleteVideoSuccess { videoId } ${ERROR} ... on JobAlreadyProcessingError { jobId videoId } } }`;

async function uploadAs(user: TestUser, title: string): Promise<string> {
  return result(await upload(app, user.key, { file: clip, input: { title } })).video.id;
}

beforeAll(async () => {
  tmp = await useOwnTmpdir();
  media = await mkdtemp(path.join(os.tmpdir(), 'media-'));
  clip = await makeVideo(media, { format: 'mp4', seconds: 1 });
  app = await startTestApp();
  alice = await app.createUser({ name: 'alice' });
  bob = await app.createUser({ name: 'bob' });
  admin = await app.createUser({ name: 'root', admin: true });
  for (let i = 1; i <= 5; i++) aliceVideos.push(await uploadAs(alice, `alice ${i}`));
  bobVideo = await uploadAs(bob, 'bob 1');
});
afterAll(async () => {
  await app?.close();
  await rm(media, { recursive: true, force: true });
  await tmp?.restore();
});

describe('video(id)', () => {
  it('returns the owner’s video with its metadata', async () => {
    const res = await gql(app.url, alice.key, VIDEO, { id: aliceVideos[0] });
    expect(res.body.data.video).toMatchObject({
      __typename: 'Video',
      id: aliceVideos[0],
      title: 'alice 1',
      format: 'mp4',
      owner: { id: alice.id, name: 'alice' },
      metadata: { width: 320, height: 240, videoCodec: 'h264' },
    });
  });

  it('answers another user’s video exactly like an unknown id', async () => {
    const foreign = (await gql(app.url, bob.key, VIDEO, { id: aliceVideos[0] })).body.data.video;
    const unknown = (await gql(app.url, bob.key, VIDEO, { id: 'vid_xyz999' })).body.data.video;
    expect(unknown).toEqual({
      __typename: 'VideoNotFoundError',
      message: 'The specified video could not be found.',
      code: 'VIDEO_NOT_FOUND',
      detail: "No video with id 'vid_xyz999' exists.",
      retryable: false,
    });
    expect(foreign).toEqual({ ...unknown, detail: `No video with id '${aliceVideos[0]}' exists.` });
  });

  it('lets an admin see anybody’s video', async () => {
    const res = await gql(app.url, admin.key, VIDEO, { id: bobVideo });
    expect(res.body.data.video).toMatchObject({ __typename: 'Video', owner: { id: bob.id } });
  });
});

describe('videos(first, after, ownerId)', () => {
  it('pages through the viewer’s own videos, newest first', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    const pages: boolean[] = [];
    do {
      const res: any = await gql(app.url, alice.key, VIDEOS, { first: 2, after });
      const page: any = res.body.data.videos;
      expect(page.__typename).toBe('VideoConnection');
      seen.push(...page.nodes.map((n: { id: string }) => n.id));
      pages.push(page.pageInfo.hasNextPage);
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(seen).toEqual([...aliceVideos].reverse());
    expect(pages).toEqual([true, true, false]);
  });

  it('never lists another user’s videos to a user', async () => {
    const res = await gql(app.url, bob.key, VIDEOS, {});
    expect(res.body.data.videos.nodes.map((n: { id: string }) => n.id)).toEqual([bobVideo]);
  });

  it('refuses a user naming another owner with ForbiddenError', async () => {
    const res = await gql(app.url, bob.key, VIDEOS, { ownerId: alice.id });
    expect(res.body.data.videos).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
  });

  it('shows an admin every video, or one owner’s', async () => {
    const all = (await gql(app.url, admin.key, VIDEOS, { first: 100 })).body.data.videos;
    expect(all.nodes.map((n: { id: string }) => n.id)).toEqual(expect.arrayContaining([...aliceVideos, bobVideo]));
    const bobs = (await gql(app.url, admin.key, VIDEOS, { ownerId: bob.id })).body.data.videos;
    expect(bobs.nodes).toEqual([{ id: bobVideo, owner: { id: bob.id } }]);
  });

  it('refuses a page size outside 1–100 and a cursor it did not hand out with InvalidInputError', async () => {
    const tooMany = (await gql(app.url, alice.key, VIDEOS, { first: 101 })).body.data.videos;
    expect(tooMany).toMatchObject({ __typename: 'InvalidInputError', fieldErrors: [{ path: ['first'] }] });
    const badCursor = (await gql(app.url, alice.key, VIDEOS, { after: 'bm9wZQ' })).body.data.videos;
    expect(badCursor).toMatchObject({ __typename: 'InvalidInputError', fieldErrors: [{ path: ['after'] }] });
  });
});

describe('deleteVideo(id)', () => {
  const insertJob = async (videoId: string, ownerId: string, status: string) => {
    const id = `job_${Math.random().toString(36).slice(2, 12)}`;
    await app.services.database.sql`
      insert into jobs (id, video_id, owner_id, status, max_attempts, options, timeout_seconds)
      values (${id}, ${videoId}, ${ownerId}, ${status}, 3, ${JSON.stringify({ model: 'FAST' })}::jsonb, 3600)`;
    return id;
  };

  it('deletes the video, its file, its jobs and their output directories', async () => {
    const id = await uploadAs(alice, 'to delete');
    const jobId = await insertJob(id, alice.id, 'COMPLETED');
    const outputs = path.join(app.dataDir, 'outputs', jobId);
    await mkdir(outputs, { recursive: true });
    await writeFile(path.join(outputs, 'thumbnail.jpg'), 'x');
    expect(await storedFileNames(app)).toContain(`${id}/source.mp4`);

    const res = await gql(app.url, alice.key, DELETE, { id });
    expect(res.body.data.deleteVideo).toEqual({ __typename: 'DeleteVideoSuccess', videoId: id });
    expect((await storedFileNames(app)).filter((f) => f.startsWith(id))).toEqual([]);
    expect(existsSync(path.join(app.dataDir, 'uploads', id))).toBe(false);
    expect(existsSync(outputs)).toBe(false);
    expect(await app.services.database.sql`select id from videos where id = ${id}`).toHaveLength(0);
    expect(await app.services.database.sql`select id from jobs where id = ${jobId}`).toHaveLength(0);
    expect((await gql(app.url, alice.key, VIDEO, { id })).body.data.video.__typename).toBe('VideoNotFoundError');
  });

  it.each(['QUEUED', 'PROCESSING'])('refuses while a job of the video is %s, keeping everything', async (status) => {
    const id = await uploadAs(alice, `busy ${status}`);
    const jobId = await insertJob(id, alice.id, status);
    const res = await gql(app.url, alice.key, DELETE, { id });
    expect(res.body.data.deleteVideo).toEqual({
      __typename: 'JobAlreadyProcessingError',
      message: 'A job for this video is already in progress.',
      code: 'JOB_ALREADY_PROCESSING',
      detail: `Job '${jobId}' is currently processing video '${id}'.`,
      retryable: false,
      jobId,
      videoId: id,
    });
    expect(await storedFileNames(app)).toContain(`${id}/source.mp4`);
    expect(await app.services.database.sql`select id from videos where id = ${id}`).toHaveLength(1);
    await app.services.database.sql`update jobs set status = 'CANCELLED' where id = ${jobId}`;
    expect((await gql(app.url, alice.key, DELETE, { id })).body.data.deleteVideo.__typename).toBe('DeleteVideoSuccess');
  });

  it('answers another user’s video like an unknown one and deletes nothing', async () => {
    const res = await gql(app.url, bob.key, DELETE, { id: aliceVideos[0] });
    expect(res.body.data.deleteVideo).toMatchObject({
      __typename: 'VideoNotFoundError',
      detail: `No video with id '${aliceVideos[0]}' exists.`,
    });
    expect(await storedFileNames(app)).toContain(`${aliceVideos[0]}/source.mp4`);
    const unknown = (await gql(app.url, bob.key, DELETE, { id: 'vid_xyz999' })).body.data.deleteVideo;
    expect(unknown.detail).toBe("No video with id 'vid_xyz999' exists.");
  });

  it('lets an admin delete anybody’s video', async () => {
    const id = await uploadAs(bob, 'admin deletes');
    expect((await gql(app.url, admin.key, DELETE, { id })).body.data.deleteVideo).toEqual({
      __typename: 'DeleteVideoSuccess',
      videoId: id,
    });
  });
});
