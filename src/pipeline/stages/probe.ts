// Re-reads the source: it may have changed or rotted on disk since the upload measured it.
import { probeAndVerify } from '../probe.ts';
import type { Stage } from '../types.ts';

export const probeStage: Stage = {
  name: 'probe',
  description: 'Reads the source metadata and checks that both ends of the video decode',
  async run(ctx) {
    const { ffmpeg, ffprobe } = ctx.binaries;
    const durationInHeader = /\.(mp4|mov)$/i.test(ctx.inputPath);
    const metadata = await probeAndVerify(ctx.inputPath, { ffprobe, ffmpeg, signal: ctx.signal, durationInHeader });
    ctx.reportProgress(1);
    return { output: { ...metadata }, files: [] };
  },
};
