// Big test files for the upload benchmarks, made by ffmpeg at run time.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MiB = 1024 * 1024;

/** H.264 1280x720 at 80 Mbit/s in MP4, as a camera or an export writes it (moov at the end). */
export async function makeBigH264(file: string, sizeMb: number, ffmpeg: string, faststart = false) {
  const seconds = Math.max(2, Math.ceil((sizeMb * 8 * 1.048576) / 80));
  const rate = ['-b:v', '80M', '-minrate', '80M', '-maxrate', '80M', '-bufsize', '80M'];
  await run(
    ffmpeg,
    ['-v', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', `testsrc2=s=1280x720:r=25,noise=alls=40:allf=t`, '-t', String(seconds)].concat([
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      ...rate,
      '-x264-params',
      'nal-hrd=cbr',
      '-pix_fmt',
      'yuv420p',
      ...(faststart ? ['-movflags', '+faststart'] : []),
      file,
    ]),
  );
}

export async function makeBigVideo(file: string, sizeMb: number, ffmpeg: string) {
  // Uncompressed 1280x720 yuv420p (1.32 MiB a frame) in Matroska: a real video that ffprobe and the
  // decode check read like any upload, written at disk speed instead of encoder speed.
  const frameBytes = 1280 * 720 * 1.5;
  const frames = Math.max(50, Math.ceil((sizeMb * MiB) / frameBytes));
  await run(ffmpeg, [
    '-v',
    'error',
    '-nostdin',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc=s=1280x720:r=25',
    '-frames:v',
    String(frames),
    '-pix_fmt',
    'yuv420p',
    '-c:v',
    'rawvideo',
    file,
  ]);
}
