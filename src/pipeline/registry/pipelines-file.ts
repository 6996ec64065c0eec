// PIPELINES_FILE: the operator's external stages and pipelines (../shared/API.md, "Pipelines"). Read
// and checked once at start by every process; any problem stops the start with a message naming the
// file, the stage or pipeline, and the field.
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { z } from 'zod';

const NAME = /^[a-z][a-z0-9_-]{0,62}$/;
const nameMessage = 'must be lowercase letters, digits, - or _, starting with a letter (at most 63)';

/**
 * The longest stage timeout: a job never runs longer than 24 h (pg-boss refuses a longer expiration), so
 * a longer one could never fire; and past 2^31-1 ms (24.8 days) a timer fires at once.
 */
export const MAX_STAGE_TIMEOUT_SECONDS = 24 * 60 * 60;

const externalStageSchema = z
  .object({
    command: z.array(z.string().min(1, { message: 'must not be empty' })).min(1, { message: 'must name a program' }),
    description: z.string().default(''),
    timeoutSeconds: z
      .number()
      .int({ message: 'must be a whole number' })
      .positive({ message: 'must be positive' })
      .max(MAX_STAGE_TIMEOUT_SECONDS, {
        message: `must be at most ${MAX_STAGE_TIMEOUT_SECONDS} (24 h, the longest a job may run); the job's own deadline applies anyway`,
      })
      .optional(),
    env: z.record(z.string(), z.string({ message: 'values must be strings' })).default({}),
    optionsSchema: z.record(z.string(), z.unknown(), { message: 'must be a JSON Schema object' }).optional(),
  })
  .strict();

const pipelineSchema = z
  .object({
    description: z.string().default(''),
    stages: z.array(z.string()).min(1, { message: 'must list at least one stage' }),
  })
  .strict();

const fileSchema = z
  .object({
    stages: z.record(z.string().regex(NAME, { message: nameMessage }), externalStageSchema).default({}),
    pipelines: z.record(z.string().regex(NAME, { message: nameMessage }), pipelineSchema).default({}),
  })
  .strict();

export interface ExternalStageDefinition {
  name: string;
  /** command[0] resolved: an absolute path. */
  program: string;
  args: string[];
  description: string;
  timeoutSeconds: number | null;
  env: Record<string, string>;
  optionsSchema: Record<string, unknown> | null;
  validateOptions: ValidateFunction | null;
}

export interface PipelineDefinition {
  name: string;
  description: string;
  stages: string[];
}

export interface PipelinesFile {
  stages: ExternalStageDefinition[];
  pipelines: PipelineDefinition[];
}

/** One problem with the file, phrased "PIPELINES_FILE <file>: <where>: <what>". */
export class PipelinesFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`PIPELINES_FILE ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PipelinesFileError';
  }
}

const where = (segments: ReadonlyArray<PropertyKey>) =>
  segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? String(s) : `.${String(s)}`)).join('') || '(top level)';

/** A JSON Schema validator for stage options: strict, so a misspelt keyword is an error, not ignored. */
export function newOptionsValidator(): Ajv {
  return new Ajv({ allErrors: true, strict: true, strictTypes: false, useDefaults: true });
}

/** `./x.sh` resolves against the file's directory, `x` on PATH; it must exist and be executable. */
function resolveProgram(command: string, baseDir: string, searchPath: string): string | { problem: string } {
  const candidates = command.includes('/')
    ? [path.resolve(baseDir, command)]
    : searchPath
        .split(path.delimiter)
        .filter(Boolean)
        .map((dir) => path.join(dir, command));
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch (error) {
      if (command.includes('/') && (error as NodeJS.ErrnoException).code === 'EACCES')
        return { problem: `program ${candidate} is not executable (chmod +x it)` };
    }
  }
  return { problem: command.includes('/') ? `program ${candidates[0]} does not exist` : `program "${command}" was not found on PATH` };
}

/**
 * Reads and checks the file. `builtInStages` and `builtInPipelines` are the names the file may use but
 * not redefine.
 */
export function readPipelinesFile(
  file: string,
  builtIn: { stages: ReadonlySet<string>; pipelines: ReadonlySet<string> },
  searchPath = process.env.PATH ?? '',
): PipelinesFile {
  const fail = (problems: string[]): never => {
    throw new PipelinesFileError(file, problems);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    fail([e.code === 'ENOENT' ? 'no such file' : e instanceof SyntaxError ? `not valid JSON: ${e.message}` : `cannot be read: ${e.message}`]);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    // zod reports a bad record key as "Invalid key in record": say what a name may be.
    fail(parsed.error.issues.map((issue) => `${where(issue.path)}: ${issue.code === 'invalid_key' ? nameMessage : issue.message}`));
  }
  const { stages, pipelines } = parsed.data!;

  const problems: string[] = [];
  const baseDir = path.dirname(path.resolve(file));
  const ajv = newOptionsValidator();
  const external: ExternalStageDefinition[] = [];
  for (const [name, def] of Object.entries(stages)) {
    if (builtIn.stages.has(name)) {
      problems.push(`stages.${name}: "${name}" is a built-in stage; give yours another name`);
      continue;
    }
    const program = resolveProgram(def.command[0], baseDir, searchPath);
    if (typeof program !== 'string') problems.push(`stages.${name}.command[0]: ${program.problem}`);
    let validateOptions: ValidateFunction | null = null;
    if (def.optionsSchema) {
      try {
        validateOptions = ajv.compile(def.optionsSchema);
      } catch (error) {
        problems.push(`stages.${name}.optionsSchema: not a valid JSON Schema: ${(error as Error).message}`);
      }
    }
    external.push({
      name,
      program: typeof program === 'string' ? program : def.command[0],
      args: def.command.slice(1),
      description: def.description,
      timeoutSeconds: def.timeoutSeconds ?? null,
      env: def.env,
      optionsSchema: def.optionsSchema ?? null,
      validateOptions,
    });
  }

  const known = new Set([...builtIn.stages, ...Object.keys(stages)]);
  const definitions: PipelineDefinition[] = [];
  for (const [name, def] of Object.entries(pipelines)) {
    if (builtIn.pipelines.has(name)) {
      problems.push(`pipelines.${name}: "${name}" is a built-in pipeline; give yours another name`);
      continue;
    }
    def.stages.forEach((stage, i) => {
      if (!known.has(stage)) problems.push(`pipelines.${name}.stages[${i}]: unknown stage "${stage}" (known: ${[...known].join(', ')})`);
      else if (def.stages.indexOf(stage) !== i) problems.push(`pipelines.${name}.stages[${i}]: "${stage}" is listed twice`);
    });
    definitions.push({ name, description: def.description, stages: def.stages });
  }
  if (problems.length) fail(problems);
  return { stages: external, pipelines: definitions };
}
