// Upload → submit → follow → download, on vidq's SDK (@vidq/client, clients/sdk).
//
//   VIDQ_API_KEY=vq_… node examples/node-sdk/process-video.mjs my-clip.mp4 [output-dir]
//
// VIDQ_URL (default http://localhost:4000) is the server; WEBHOOK_URL, if set, receives job.completed.
// The upload is resumable: stop the script mid-upload and run it again, it goes on from where it was.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createVidqClient, VidqError } from '@vidq/client';

const [file, outDir = 'vidq-output'] = process.argv.slice(2);
if (!file || !process.env.VIDQ_API_KEY) {
  console.error('usage: VIDQ_API_KEY=vq_… node examples/node-sdk/process-video.mjs VIDEO_FILE [OUTPUT_DIR]');
  process.exit(64);
}

const url = process.env.VIDQ_URL || 'http://localhost:4000';
const vidq = createVidqClient({ url, apiKey: process.env.VIDQ_API_KEY });
// On a terminal the percentage is rewritten in place; in a log (a pipe, CI) every quarter gets a line.
const onTerminal = Boolean(process.stdout.isTTY);
let logged = -1;
function showProgress(sent, total) {
  const percent = Math.floor((100 * sent) / total);
  if (onTerminal) process.stdout.write(`\ruploading ${percent} %`);
  else if (percent >= logged + 25 || (percent === 100 && logged < 100)) console.log(`uploading ${(logged = percent)} %`);
}

try {
  const video = await vidq.upload(file, { resumeFile: path.join(os.tmpdir(), 'vidq-resumable-uploads.json'), onProgress: showProgress });
  const { width, height, durationSeconds } = video.metadata;
  console.log(`${onTerminal ? '\n' : ''}uploaded ${video.id}: ${width}×${height}, ${durationSeconds.toFixed(1)} s`);

  const job = await vidq.submitJob({ videoId: video.id, model: 'FAST', webhookUrl: process.env.WEBHOOK_URL || undefined });
  console.log(`submitted ${job.id}`);
  for await (const event of vidq.follow(job.id)) {
    const where = event.stage ? ` ${event.stage}` : '';
    console.log(`  #${event.sequence} ${event.type}${where} ${(100 * event.progress).toFixed(0)} %`);
    if (event.error) console.log(`    ${event.error.code}: ${event.error.message} ${event.error.detail}`);
  }

  const finished = await vidq.job(job.id);
  console.log(`job ${finished.id} ${finished.status}`);
  if (finished.status !== 'COMPLETED') {
    console.error(`${finished.error?.code}: ${finished.error?.message} ${finished.error?.detail}`);
    process.exitCode = 1;
  } else {
    const output = await vidq.output(job.id);
    fs.mkdirSync(outDir, { recursive: true });
    for (const f of output.files) {
      const name = `${f.stage}-${path.basename(new URL(f.url).pathname)}`;
      const response = await fetch(f.url);
      if (!response.ok || !response.body) throw new Error(`download of ${name} answered ${response.status}`);
      await pipeline(Readable.fromWeb(response.body), fs.createWriteStream(path.join(outDir, name)));
      console.log(`saved ${path.join(outDir, name)} (${f.kind}, ${f.sizeBytes} bytes)`);
    }
    if (output.transcode) console.log(`transcoded: ${output.transcode.width}×${output.transcode.height} ${output.transcode.codec}`);
  }
} catch (error) {
  if (!(error instanceof VidqError)) throw error;
  // Every failure has a stable code; `message` is for people, `detail` for logs.
  if (error.code === 'SERVICE_UNAVAILABLE') {
    // Nothing answered at `url` (or vidq is overloaded): the message names the URL and the cause.
    console.error(`\nvidq unavailable: ${error.code}: ${error.message}`);
    console.error(`This example talks to VIDQ_URL (${url}): start vidq there, or set VIDQ_URL=http://host:port.`);
  } else {
    console.error(`\nvidq refused: ${error.code}: ${error.message}`);
    if (error.detail !== error.message) console.error(`  ${error.detail}`); // what exactly, and what to do
  }
  for (const field of error.fieldErrors) console.error(`  ${field.path.join('.')}: ${field.message}`);
  process.exitCode = 1;
} finally {
  await vidq.close();
}
