// A StageContext for running one stage directly on a file, as the worker would, in a fresh job directory.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createLogger } from '../../src/logger';
import { validateProcessingOptions } from '../../src/pipeline/options.ts';
import { probeVideo } from '../../src/pipeline/probe.ts';
import type { StageContext } from '../../src/pipeline/types.ts';
import { binaries } from './media.ts';

let jobs = 0;

/** `options` are a job's processing options (the defaults when empty); `extra` overrides any field. */
export async function stageContext(dir: string, inputPath: string, options: unknown = {}, extra: Partial<StageContext> = {}): Promise<StageContext> {
  const jobId = `job-${++jobs}`;
  const outputDir = path.join(dir, jobId);
  await mkdir(outputDir);
  const v = validateProcessingOptions(options);
  if (!('options' in v)) throw new Error(`invalid processing options: ${JSON.stringify(v.fieldErrors)}`);
  return {
    jobId,
    attempt: 1,
    inputPath,
    outputDir,
    options: v.options,
    stageOptions: {},
    scratchDir: outputDir,
    log: createLogger('silent'),
    source: await probeVideo(inputPath, binaries),
    previous: {},
    binaries,
    signal: new AbortController().signal,
    reportProgress: () => {},
    ...extra,
  };
}
