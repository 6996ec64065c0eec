// A webhook receiver for vidq: checks each delivery's Standard Webhooks signature with the SDK's
// verifyWebhook, answers at once, ignores repeats (a delivery may be retried: dedupe by its id), and
// then acts on the event.
//
//   VIDQ_WEBHOOK_SECRET=whsec_… RECEIVER_PORT=4100 node examples/webhook-receiver/receiver.mjs
//
// The secret is `viewer { webhookSecret }` (or what `createWebhookEndpoint` answered). RECEIVER_PORT
// (default 4100) and RECEIVER_HOST (default 127.0.0.1) are where the receiver listens: not PORT and
// HOST, which are vidq's own, so one shell can start both. vidq delivers to a loopback URL such as
// http://127.0.0.1:4100/vidq only when it runs with WEBHOOK_ALLOW_PRIVATE_URLS=true.
import http from 'node:http';
import { verifyWebhook, VidqError } from '@vidq/client';

const secret = process.env.VIDQ_WEBHOOK_SECRET;
if (!secret) {
  console.error('usage: VIDQ_WEBHOOK_SECRET=whsec_… [RECEIVER_PORT=4100] node examples/webhook-receiver/receiver.mjs');
  process.exit(64);
}
const seen = new Set();

const server = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  let event;
  try {
    event = verifyWebhook(secret, Buffer.concat(chunks), req.headers); // the raw body, as received
  } catch (error) {
    if (!(error instanceof VidqError)) throw error;
    // The usual cause: the other secret. An endpoint signs with its own (createWebhookEndpoint,
    // rotateWebhookSecret); a job's own webhookUrl with the user's (viewer.webhookSecret).
    console.log(
      `refused a delivery: ${error.detail} (if it came from vidq: endpoints sign with their own secret, jobs' webhookUrl with viewer.webhookSecret; is VIDQ_WEBHOOK_SECRET the right one?)`,
    );
    res.writeHead(400).end(error.message);
    return;
  }
  res.writeHead(204).end(); // answer first: slow handlers make vidq time out and retry
  if (seen.has(event.id)) return;
  seen.add(event.id);

  switch (event.type) {
    case 'job.completed':
      console.log(`job.completed ${event.data.job.id}: ${event.data.job.output.files.length} files`);
      for (const file of event.data.job.output.files) console.log(`  ${file.kind} ${file.url}`);
      break;
    case 'job.failed':
    case 'job.timed_out':
      console.log(`${event.type} ${event.data.job.id}: ${event.data.job.error?.code} ${event.data.job.error?.message}`);
      break;
    default:
      console.log(`${event.type} ${event.id}`);
  }
});

server.listen(Number(process.env.RECEIVER_PORT ?? 4100), process.env.RECEIVER_HOST || '127.0.0.1', () => {
  const { address, port } = server.address();
  console.log(`listening on http://${address}:${port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
