// The stage registry: every stage this deployment can run (the built-in ones and PIPELINES_FILE's
// external ones) and the named pipelines that order them. Built once at start (runtime.ts) and handed
// to the API (submitJob's checks, the `pipelines` query) and to the workers (which stage to run).
import type { ValidateFunction } from 'ajv';
import { ConfigError } from '../../config';
import type { FieldError } from '../../errors/app-errors';
import { createExternalStage } from '../external/stage';
import { EXTRA_STAGES, STAGES } from '../stages/index';
import type { Stage } from '../types';
import { readPipelinesFile } from './pipelines-file';

export const DEFAULT_PIPELINE = 'default';
export const HLS_PIPELINE = 'hls';

export interface Pipeline {
  name: string;
  description: string;
  stages: string[];
  builtIn: boolean;
}

export interface RegisteredStage {
  stage: Stage;
  builtIn: boolean;
  optionsSchema: Record<string, unknown> | null;
  validateOptions: ValidateFunction | null;
}

export type StageOptions = Record<string, Record<string, unknown>>;

export interface RegistryConfig {
  /** JOB_STAGES: narrows the built-in `default` pipeline. */
  jobStages?: string[];
  /** PIPELINES_FILE */
  pipelinesFile?: string;
}

export class StageRegistry {
  constructor(
    private readonly stages: ReadonlyMap<string, RegisteredStage>,
    private readonly pipelineMap: ReadonlyMap<string, Pipeline>,
  ) {}

  stage(name: string): RegisteredStage | undefined {
    return this.stages.get(name);
  }

  pipeline(name: string): Pipeline | undefined {
    return this.pipelineMap.get(name);
  }

  get pipelines(): Pipeline[] {
    return [...this.pipelineMap.values()];
  }

  /** WORKER_PIPELINES must name pipelines of this deployment (ConfigError otherwise); unset serves them all. */
  checkServed(workerPipelines: string[] | undefined): string[] {
    if (!workerPipelines) return [...this.pipelineMap.keys()];
    const unknown = workerPipelines.filter((name) => !this.pipelineMap.has(name));
    if (unknown.length) {
      throw new ConfigError([
        `WORKER_PIPELINES: unknown pipeline${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')} (this deployment runs: ${[...this.pipelineMap.keys()].join(', ')})`,
      ]);
    }
    return workerPipelines;
  }

  /**
   * submitJob's check of `pipeline` and `stageOptions`: field errors with paths from the argument, or
   * the options to store (each stage's, defaults applied by its schema; `{}` for stages given none).
   */
  checkSubmission(pipelineName: string, stageOptions: unknown): { fieldErrors: FieldError[] } | { pipeline: Pipeline; stageOptions: StageOptions } {
    const pipeline = this.pipelineMap.get(pipelineName);
    if (!pipeline) {
      return {
        fieldErrors: [
          { path: ['input', 'pipeline'], message: `unknown pipeline "${pipelineName}"; this deployment runs: ${[...this.pipelineMap.keys()].join(', ')}` },
        ],
      };
    }
    const given = stageOptions ?? {};
    if (typeof given !== 'object' || Array.isArray(given)) {
      return { fieldErrors: [{ path: ['input', 'stageOptions'], message: 'must be an object with one entry per stage, e.g. {"loudnorm": {"target": -16}}' }] };
    }
    const fieldErrors: FieldError[] = [];
    const checked: StageOptions = {};
    for (const name of Object.keys(given)) {
      if (!pipeline.stages.includes(name))
        fieldErrors.push({
          path: ['input', 'stageOptions', name],
          message: `"${name}" is not a stage of pipeline "${pipeline.name}" (${pipeline.stages.join(', ')})`,
        });
    }
    for (const name of pipeline.stages) {
      const registered = this.stages.get(name)!;
      const options = structuredClone((given as Record<string, unknown>)[name] ?? {});
      const base = ['input', 'stageOptions', name];
      if (typeof options !== 'object' || options === null || Array.isArray(options)) {
        fieldErrors.push({ path: base, message: 'must be an object' });
        continue;
      }
      if (!registered.validateOptions) {
        if (Object.keys(options).length) fieldErrors.push({ path: base, message: `stage "${name}" takes no options` });
        checked[name] = {};
        continue;
      }
      if (!registered.validateOptions(options)) {
        for (const error of registered.validateOptions.errors ?? []) {
          const at = error.instancePath.split('/').filter(Boolean);
          const missing = (error.params as { missingProperty?: string; additionalProperty?: string }).missingProperty;
          const extra = (error.params as { additionalProperty?: string }).additionalProperty;
          fieldErrors.push({ path: [...base, ...at, ...(missing ? [missing] : extra ? [extra] : [])], message: error.message ?? 'is invalid' });
        }
        continue;
      }
      checked[name] = options as Record<string, unknown>;
    }
    return fieldErrors.length ? { fieldErrors } : { pipeline, stageOptions: checked };
  }
}

/** Builds the registry; a bad PIPELINES_FILE throws PipelinesFileError (the start stops). */
export function loadStageRegistry(config: RegistryConfig): StageRegistry {
  const stages = new Map<string, RegisteredStage>();
  for (const stage of [...STAGES, ...EXTRA_STAGES]) stages.set(stage.name, { stage, builtIn: true, optionsSchema: null, validateOptions: null });

  const builtInOrder = [...STAGES, ...EXTRA_STAGES].map((s) => s.name);
  const defaultStages = config.jobStages ? builtInOrder.filter((name) => config.jobStages!.includes(name)) : STAGES.map((s) => s.name);
  const unknown = (config.jobStages ?? []).filter((name) => !stages.has(name));
  if (unknown.length) throw new Error(`JOB_STAGES names unknown stages: ${unknown.join(', ')}. Known: ${[...stages.keys()].join(', ')}`);
  const pipelines = new Map<string, Pipeline>([
    [
      DEFAULT_PIPELINE,
      { name: DEFAULT_PIPELINE, description: 'Probe, thumbnails, transcode, audio analysis and scene detection.', stages: defaultStages, builtIn: true },
    ],
    [
      HLS_PIPELINE,
      { name: HLS_PIPELINE, description: 'Probe, thumbnails and an HTTP Live Streaming ladder.', stages: ['probe', 'thumbnails', 'hls'], builtIn: true },
    ],
  ]);

  if (config.pipelinesFile) {
    const file = readPipelinesFile(config.pipelinesFile, { stages: new Set(stages.keys()), pipelines: new Set(pipelines.keys()) });
    for (const def of file.stages) {
      stages.set(def.name, { stage: createExternalStage(def), builtIn: false, optionsSchema: def.optionsSchema, validateOptions: def.validateOptions });
    }
    for (const def of file.pipelines) pipelines.set(def.name, { ...def, builtIn: false });
  }
  return new StageRegistry(stages, pipelines);
}
