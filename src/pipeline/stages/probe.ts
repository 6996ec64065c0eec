// Re-reads the source: it may have changed or rotted on disk since the upload measured it.
import { probeVideo, verifyDecodable } from '../probe.ts';
import type { Stage } from '../types.ts';

export const probeStage: Stage = {
  name: 'probe',
  description: 'Reads the source metadata and checks that both ends of the video decode',
  async run(ctx) {
    const { ffmpeg, ffprobe } = ctx.binaries;
    const metadata = await probeVideo(ctx.inputPath, { ffprobe, signal: ctx.signal });
    ctx.reportProgress(0.5);
    await verifyDecodable(ctx.inputPath, { ffmpeg, signal: ctx.signal, metadata });
    ctx.reportProgress(1);
    return { output: { ...metadata }, files: [] };
  },
};
