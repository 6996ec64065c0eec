// The tail check of an MP4/MOV whose `moov` comes first, decoded while the last of the upload arrives,
// so that after the last byte only ffprobe is left (the head was checked earlier still, early-head.ts).
// It starts about LEAD_SECONDS before the expected end, at the rate the file has been arriving: late
// enough that the last keyframe's bytes are usually there, so ffmpeg does not sit waiting for them.
// Whatever goes wrong here (a long pause in the upload, a cut file, a start too early) leaves a null
// result, and the tail is decoded after the last byte as before.
import { open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { type DecodeCheck, decodeTailWhileWritten, decoderThreads } from '../pipeline/probe';
import { moovFirst } from './early-head';
import type { VideoFormat } from './formats';

/** How long before the expected end the tail's decode starts. */
const LEAD_SECONDS = 1;
/** How long the file must have been arriving before its rate is trusted. */
const RATE_AFTER_MS = 200;
/**
 * How long ffmpeg may wait for the next bytes before the early tail gives up (inconclusive): a pause of
 * the client, or a file whose moov lists more than its boxes hold (a cut file is caught at end()).
 */
const STALL_SECONDS = 2;
/** Files smaller than this arrive too fast for an early tail to shorten anything. */
const MIN_BYTES = 8 * 1024 * 1024;

export interface EarlyTailCheck {
  /** The temp file now holds this many bytes. */
  grow(bytes: number): void;
  /** The whole file is there: a tail not started by now is left to the check after the last byte. */
  end(): void;
  abandon(): void;
  /** The tail's check, or null when it did not run to a verdict (then it is decoded after the last byte). */
  result: Promise<DecodeCheck | null>;
}

/**
 * Null unless the file is an MP4/MOV with its moov first and its expected size (from the request's
 * declared length) is known and large enough.
 */
export function startEarlyTailCheck(
  head: Buffer,
  format: VideoFormat,
  tempPath: string,
  ffmpeg: string,
  expectedBytes: number | null,
  stallSeconds = STALL_SECONDS,
): EarlyTailCheck | null {
  if ((format !== 'mp4' && format !== 'mov') || !moovFirst(head) || expectedBytes === null || expectedBytes < MIN_BYTES) return null;
  const stop = new AbortController();
  let written = 0;
  let settle: (check: DecodeCheck | null) => void = () => {};
  const result = new Promise<DecodeCheck | null>((resolve) => (settle = resolve));
  let state: 'waiting' | 'running' | 'done' = 'waiting'; // 'done': never started, the result is null
  let firstAt = 0;
  let firstBytes = 0;
  const start = () => {
    state = 'running';
    // All cores, as a tail decoded alone after the last byte gets: the scheduler shares them with the upload.
    const threads = decoderThreads(availableParallelism(), false).tail;
    decodeTailWhileWritten(tempPath, { ffmpeg, signal: stop.signal, threads, stallSeconds })
      .then((check) => settle(stop.signal.aborted ? null : check))
      .catch(() => settle(null));
  };
  /** Not started by now: the tail is left to the check after the last byte. */
  const giveUpIfWaiting = () => {
    if (state !== 'waiting') return;
    state = 'done';
    settle(null);
  };
  const abandon = () => {
    stop.abort(new Error('early tail check abandoned'));
    giveUpIfWaiting();
  };
  return {
    grow(bytes) {
      written = bytes;
      if (state !== 'waiting') return;
      const now = performance.now();
      if (firstAt === 0) {
        [firstAt, firstBytes] = [now, bytes];
        return;
      }
      if (now - firstAt < RATE_AFTER_MS) return;
      const bytesPerSecond = ((bytes - firstBytes) / (now - firstAt)) * 1000;
      if (expectedBytes - bytes <= bytesPerSecond * LEAD_SECONDS) start();
    },
    end() {
      giveUpIfWaiting();
      // A cut file: ffmpeg would wait for bytes that will not come. Stop it now instead.
      if (state === 'running') void boxesFit(tempPath, written).then((fit) => fit || abandon());
    },
    abandon,
    result,
  };
}

/** Whether the file's top-level boxes end within its `size` bytes: the last box of a cut MP4 (its mdat) runs past it. */
async function boxesFit(path: string, size: number): Promise<boolean> {
  const file = await open(path, 'r').catch(() => null);
  if (!file) return false;
  try {
    const header = Buffer.alloc(16);
    for (let at = 0; at < size;) {
      const { bytesRead } = await file.read(header, 0, 16, at);
      if (bytesRead < 8) return false;
      let boxSize = header.readUInt32BE(0);
      if (boxSize === 1 && bytesRead === 16) boxSize = Number(header.readBigUInt64BE(8));
      if (boxSize === 0) return true; // the last box, to the end of the file
      if (boxSize < 8) return false;
      at += boxSize;
      if (at > size) return false;
    }
    return true;
  } finally {
    await file.close();
  }
}
