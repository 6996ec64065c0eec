// A stand-in for a worker process: runs one endless ffmpeg encode through the pipeline's runner and
// prints ffmpeg's pid, so a test can SIGKILL this process and see what becomes of ffmpeg.
import { runFfmpeg } from '../../src/pipeline/ffmpeg.ts';
import { binaries } from './media.ts';

const endless = ['-v', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=s=320x240:r=25', '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'null', '-'];
runFfmpeg(endless, { ffmpeg: binaries.ffmpeg, durationSeconds: 3600, onProgress: () => {}, onSpawn: (pid) => console.log(JSON.stringify({ pid })) }).catch(
  (error) => console.error(error),
);
