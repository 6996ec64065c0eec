// The only reader of process.env. Everything else receives a typed, validated Config.
import path from 'node:path';
import { z } from 'zod';

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' }).transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int({ message: 'must be a whole number' })
    .min(min, { message: `must be at least ${min}` })
    .max(max, { message: `must be at most ${max}` });

/** An http:// or https:// URL: `minio:9000` or `localhost:9000` parse as URLs too (scheme `minio:`), and fail later, obscurely. */
const httpUrl = (example: string) => z.url({ protocol: /^https?$/, message: `must be an http:// or https:// URL, e.g. ${example}` });

const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// or postgresql:// URL' })
    .optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  PORT: int(0, 65535).default(4000),
  HOST: z.string().min(1).default('0.0.0.0'),
  ROLE: z.enum(['all', 'api', 'worker'], { message: 'must be all, api or worker' }).default('all'),
  MAX_FILE_SIZE_MB: int(1).default(1000),
  /** An upload from which no byte arrives for this long is given up as interrupted, nothing kept. */
  UPLOAD_IDLE_TIMEOUT_SECONDS: int(1, 3600).default(60),
  // pg-boss keeps a job at most 24 h (86,400 s), and a job's queue expiry sits 30 s past its deadline.
  PROCESSING_TIMEOUT_SECONDS: int(1, 86_370).default(3600),
  WEBHOOK_ALLOW_PRIVATE_URLS: bool.default(false),
  /** A webhook attempt succeeds on a 2xx within this many milliseconds (connect, headers and body). */
  WEBHOOK_TIMEOUT_MS: int(100, 120_000).default(10_000),
  /** Retries after a failed first attempt; then the delivery is FAILED with WEBHOOK_DELIVERY_FAILED. */
  WEBHOOK_MAX_RETRIES: int(0, 10).default(3),
  /** Delay before the first retry, in seconds (may be fractional); each later retry doubles it. */
  WEBHOOK_RETRY_BASE_SECONDS: z.coerce
    .number({ message: 'must be a number' })
    .min(0.01, { message: 'must be at least 0.01' })
    .max(3600, { message: 'must be at most 3600' })
    .default(10),
  /** Failed attempts in a row, at one endpoint, that open its circuit. */
  WEBHOOK_CIRCUIT_FAILURE_THRESHOLD: int(1, 1000).default(5),
  /** How long an open circuit holds deliveries back before one probe is let through. */
  WEBHOOK_CIRCUIT_COOLDOWN_SECONDS: int(1, 86_400).default(60),
  /** How long after its event a delivery may wait behind an open circuit before it is given up. */
  WEBHOOK_CIRCUIT_MAX_WAIT_SECONDS: int(1, 30 * 86_400).default(86_400),
  /** Deliveries one worker process sends at the same time. */
  WEBHOOK_CONCURRENCY: int(1, 200).default(40),
  JOB_RETENTION_HOURS: int(1).default(168),
  /** Retries after the first attempt for a transient processing failure. */
  JOB_MAX_RETRIES: int(0, 20).default(3),
  /** First retry delay in seconds; later ones double. */
  JOB_RETRY_DELAY_SECONDS: int(1).default(1),
  /** Credits a user created without --credits starts with. */
  DEFAULT_USER_CREDITS: int(0).default(100),
  /** Port of the embedded PostgreSQL (never 5432, where a system PostgreSQL may listen). */
  EMBEDDED_PG_PORT: int(1024, 65535)
    .refine((p) => p !== 5432, { message: 'must not be 5432 (a system PostgreSQL may hold it)' })
    .default(54329),
  WORKER_CONCURRENCY: int(1, 64).default(2),
  SHUTDOWN_GRACE_SECONDS: int(0).default(30),
  HEARTBEAT_SECONDS: int(10).default(10),
  MONITOR_INTERVAL_SECONDS: int(1).default(2),
  ADMIN_ALERT_WEBHOOK_URL: httpUrl('https://alerts.example.com/vidq').optional(),
  QUEUED_ALERT_SECONDS: int(1).default(600),
  /** Optional Standard Webhooks secret (whsec_…) that signs alerts sent to ADMIN_ALERT_WEBHOOK_URL. */
  ADMIN_ALERT_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/=]{16,}$/, { message: 'must look like whsec_<base64>' })
    .optional(),
  /** WebSocket keep-alive: a ping this often; a socket that does not answer within the same time is dropped. 0 = off. */
  WS_KEEPALIVE_SECONDS: int(0, 3600).default(12),
  /** Open subscriptions one WebSocket may hold at once. */
  WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: int(1).default(100),
  /** Open WebSockets one API key may hold across all API processes (and, counted apart, SSE streams). */
  WS_MAX_CONNECTIONS_PER_KEY: int(1).default(100),
  /** Uploads one API key may have in progress at once, across all API processes. */
  UPLOAD_MAX_CONCURRENT_PER_KEY: int(1).default(4),
  /** Wrong API keys one client address may send per AUTH_FAILURE_WINDOW_SECONDS before 429s. */
  AUTH_MAX_FAILURES: int(1).default(30),
  AUTH_FAILURE_WINDOW_SECONDS: int(1, 86_400).default(60),
  /** How often open WebSockets' keys are checked again (revocations also close them at once, by NOTIFY). */
  WS_KEY_RECHECK_SECONDS: int(1).default(60),
  FFMPEG_PATH: z.string().min(1).optional(),
  FFPROBE_PATH: z.string().min(1).optional(),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      message: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  PUBLIC_URL: httpUrl('https://vidq.example.com').optional(),
  /** Where uploads and outputs live: `local` (under DATA_DIR) or `s3` (an S3-compatible bucket). */
  STORAGE_DRIVER: z.enum(['local', 's3'], { message: 'must be local or s3' }).default('local'),
  S3_BUCKET: z.string().min(1).optional(),
  /** An S3-compatible server (MinIO…); unset for AWS. */
  S3_ENDPOINT: httpUrl('http://127.0.0.1:9000').optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** Path-style URLs (bucket in the path); default: on when S3_ENDPOINT is set. */
  S3_FORCE_PATH_STYLE: bool.optional(),
  /** Key prefix inside the bucket. */
  S3_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9!_.*'()/-]*$/, { message: "must be a plain key prefix (letters, digits, / and !_.*'()-)" })
    .default(''),
  /** Local working copies (uploads being checked, a job's stage files); default DATA_DIR/scratch. */
  SCRATCH_DIR: z.string().min(1).optional(),
  /** Origins that browser apps may call /graphql from (comma-separated, or *); default: none. */
  GRAPHQL_CORS_ORIGINS: z
    .string()
    .regex(/^(\*|https?:\/\/[^\s,/]+(,\s*https?:\/\/[^\s,/]+)*)$/, {
      message: 'must be * or a comma-separated list of origins such as https://app.example.com',
    })
    .optional(),
  /** Access-Control-Allow-Origin of /files downloads: * (the signed URLs are capabilities) or one origin. */
  FILES_CORS_ORIGIN: z
    .string()
    .regex(/^(\*|https?:\/\/[^\s,/]+)$/, { message: 'must be * or one origin such as https://app.example.com' })
    .default('*'),
  /** A resumable (tus) upload unfinished, or finished but not made into a video, is removed after this. */
  UPLOAD_EXPIRY_HOURS: int(1, 24 * 365).default(24),
  /** A worker-only process (ROLE=worker) serves GET /metrics and /health on this port when set. */
  METRICS_PORT: int(0, 65535).optional(),
  /** Bearer token Prometheus sends to GET /metrics (admins' API keys work too). */
  METRICS_TOKEN: z.string().min(16, { message: 'must be at least 16 characters' }).optional(),
  /** A JSON file of external stages and pipelines (see README, "Writing a stage"). */
  PIPELINES_FILE: z.string().min(1).optional(),
  /** Comma-separated pipelines this worker takes jobs of; default: every pipeline. */
  WORKER_PIPELINES: z
    .string()
    .regex(/^[a-z][a-z0-9_-]*(,[a-z][a-z0-9_-]*)*$/, { message: 'must be a comma-separated list of pipeline names' })
    .optional(),
  /** Comma-separated stage names the `default` pipeline runs, in registry order; default: every built-in stage. */
  JOB_STAGES: z
    .string()
    .regex(/^[a-z0-9_-]+(,[a-z0-9_-]+)*$/, { message: 'must be a comma-separated list of stage names' })
    .optional(),
});

/** The validated environment, under the names the code uses. */
const configSchema = envSchema
  .superRefine((e, ctx) => {
    if (e.STORAGE_DRIVER === 's3' && !e.S3_BUCKET) ctx.addIssue({ code: 'custom', path: ['S3_BUCKET'], message: 'is required with STORAGE_DRIVER=s3' });
    // The bucket written into the endpoint (http://minio:9000/vidq) would be asked for as /vidq/vidq.
    const endpointPath = e.S3_ENDPOINT && URL.canParse(e.S3_ENDPOINT) ? new URL(e.S3_ENDPOINT).pathname.split('/')[1] : '';
    if (e.S3_BUCKET && endpointPath === e.S3_BUCKET) {
      const server = new URL(e.S3_ENDPOINT!).origin;
      ctx.addIssue({
        code: 'custom',
        path: ['S3_ENDPOINT'],
        message: `holds the bucket: give the server's address only (${server}); the bucket goes in S3_BUCKET`,
      });
    }
    if (Boolean(e.S3_ACCESS_KEY_ID) !== Boolean(e.S3_SECRET_ACCESS_KEY)) {
      ctx.addIssue({ code: 'custom', path: [e.S3_ACCESS_KEY_ID ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID'], message: 'must be set together with its pair' });
    }
  })
  .transform((e) => ({
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.DATA_DIR),
    port: e.PORT,
    host: e.HOST,
    role: e.ROLE,
    maxFileSizeMb: e.MAX_FILE_SIZE_MB,
    uploadIdleTimeoutSeconds: e.UPLOAD_IDLE_TIMEOUT_SECONDS,
    maxFileSizeBytes: e.MAX_FILE_SIZE_MB * 1024 * 1024,
    processingTimeoutSeconds: e.PROCESSING_TIMEOUT_SECONDS,
    webhookAllowPrivateUrls: e.WEBHOOK_ALLOW_PRIVATE_URLS,
    webhookTimeoutMs: e.WEBHOOK_TIMEOUT_MS,
    webhookMaxRetries: e.WEBHOOK_MAX_RETRIES,
    webhookRetryBaseSeconds: e.WEBHOOK_RETRY_BASE_SECONDS,
    webhookCircuitFailureThreshold: e.WEBHOOK_CIRCUIT_FAILURE_THRESHOLD,
    webhookCircuitCooldownSeconds: e.WEBHOOK_CIRCUIT_COOLDOWN_SECONDS,
    webhookCircuitMaxWaitSeconds: e.WEBHOOK_CIRCUIT_MAX_WAIT_SECONDS,
    webhookConcurrency: e.WEBHOOK_CONCURRENCY,
    jobRetentionHours: e.JOB_RETENTION_HOURS,
    jobMaxRetries: e.JOB_MAX_RETRIES,
    jobRetryDelaySeconds: e.JOB_RETRY_DELAY_SECONDS,
    defaultUserCredits: e.DEFAULT_USER_CREDITS,
    embeddedPgPort: e.EMBEDDED_PG_PORT,
    workerConcurrency: e.WORKER_CONCURRENCY,
    shutdownGraceSeconds: e.SHUTDOWN_GRACE_SECONDS,
    heartbeatSeconds: e.HEARTBEAT_SECONDS,
    monitorIntervalSeconds: e.MONITOR_INTERVAL_SECONDS,
    adminAlertWebhookUrl: e.ADMIN_ALERT_WEBHOOK_URL,
    queuedAlertSeconds: e.QUEUED_ALERT_SECONDS,
    adminAlertWebhookSecret: e.ADMIN_ALERT_WEBHOOK_SECRET,
    wsKeepAliveSeconds: e.WS_KEEPALIVE_SECONDS,
    wsMaxSubscriptionsPerConnection: e.WS_MAX_SUBSCRIPTIONS_PER_CONNECTION,
    wsMaxConnectionsPerKey: e.WS_MAX_CONNECTIONS_PER_KEY,
    uploadMaxConcurrentPerKey: e.UPLOAD_MAX_CONCURRENT_PER_KEY,
    authMaxFailures: e.AUTH_MAX_FAILURES,
    authFailureWindowSeconds: e.AUTH_FAILURE_WINDOW_SECONDS,
    wsKeyRecheckSeconds: e.WS_KEY_RECHECK_SECONDS,
    ffmpegPath: e.FFMPEG_PATH,
    ffprobePath: e.FFPROBE_PATH,
    logLevel: e.LOG_LEVEL,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    jobStages: e.JOB_STAGES?.split(','),
    workerPipelines: e.WORKER_PIPELINES?.split(','),
    metricsToken: e.METRICS_TOKEN,
    metricsPort: e.METRICS_PORT,
    pipelinesFile: e.PIPELINES_FILE ? path.resolve(e.PIPELINES_FILE) : undefined,
    storageDriver: e.STORAGE_DRIVER,
    s3: {
      bucket: e.S3_BUCKET ?? '',
      endpoint: e.S3_ENDPOINT,
      region: e.S3_REGION,
      accessKeyId: e.S3_ACCESS_KEY_ID,
      secretAccessKey: e.S3_SECRET_ACCESS_KEY,
      forcePathStyle: e.S3_FORCE_PATH_STYLE ?? Boolean(e.S3_ENDPOINT),
      prefix: e.S3_PREFIX && !e.S3_PREFIX.endsWith('/') ? `${e.S3_PREFIX}/` : e.S3_PREFIX,
    },
    uploadExpiryHours: e.UPLOAD_EXPIRY_HOURS,
    graphqlCorsOrigins: e.GRAPHQL_CORS_ORIGINS ? e.GRAPHQL_CORS_ORIGINS.split(',').map((origin) => origin.trim()) : [],
    filesCorsOrigin: e.FILES_CORS_ORIGIN,
    scratchDir: path.resolve(e.SCRATCH_DIR ?? path.join(e.DATA_DIR, 'scratch')),
  }));

export type Config = z.output<typeof configSchema>;
export type Role = Config['role'];

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the environment. A bad value throws a ConfigError naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset", the way shells and .env files usually intend.
  const cleaned = Object.fromEntries(Object.keys(envSchema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const name = String(i.path[0]);
        return `${name}=${JSON.stringify(env[name] ?? '')}: ${i.message}`;
      }),
    );
  }
  return parsed.data;
}

/** Where each kind of file lives under DATA_DIR. */
export function dataPaths(config: Pick<Config, 'dataDir'>) {
  return {
    uploadsTmp: path.join(config.dataDir, 'uploads', '.tmp'),
    postgres: path.join(config.dataDir, 'postgres'),
  };
}
