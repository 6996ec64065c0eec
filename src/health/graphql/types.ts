// The Health type: what the `health` query and GET /health report.
import { builder } from '../../graphql/builder';
import type { HealthReport, PublicConfig } from '../check';

const RuntimeConfigRef = builder.objectRef<PublicConfig>('RuntimeConfig').implement({
  description: 'The runtime configuration a client may rely on (no secrets).',
  fields: (t) => ({
    maxFileSizeMb: t.exposeInt('maxFileSizeMb', { description: 'Largest accepted upload (MAX_FILE_SIZE_MB).' }),
    processingTimeoutSeconds: t.exposeInt('processingTimeoutSeconds', { description: 'Longest a job may run, and the default timeoutSeconds.' }),
    storageDriver: t.exposeString('storageDriver', { description: 'local or s3.' }),
    pipelines: t.exposeStringList('pipelines', { description: 'What submitJob(pipeline:) accepts here.' }),
    webhookMaxRetries: t.exposeInt('webhookMaxRetries'),
    webhookTimeoutMs: t.exposeInt('webhookTimeoutMs', { description: 'A delivery must be answered 2xx within this.' }),
  }),
});

export const HealthRef = builder.objectRef<HealthReport>('Health').implement({
  fields: (t) => ({
    status: t.exposeString('status', { description: '"ok" when every part is ok.' }),
    database: t.exposeString('database'),
    queue: t.exposeString('queue'),
    storage: t.exposeString('storage', { description: "The storage driver's own check (s3: the bucket answers HeadBucket)." }),
    role: t.exposeString('role'),
    uptimeSeconds: t.exposeInt('uptimeSeconds'),
    version: t.exposeString('version', { description: "vidq's version." }),
    config: t.field({ type: RuntimeConfigRef, resolve: (h) => h.config }),
  }),
});
