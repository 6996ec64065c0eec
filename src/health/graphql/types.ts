// The Health type: what the `health` query and GET /health report.
import { builder } from '../../graphql/builder';
import type { HealthReport } from '../check';

export const HealthRef = builder.objectRef<HealthReport>('Health').implement({
  fields: (t) => ({
    status: t.exposeString('status', { description: '"ok" when every part is ok.' }),
    database: t.exposeString('database'),
    queue: t.exposeString('queue'),
    role: t.exposeString('role'),
    uptimeSeconds: t.exposeInt('uptimeSeconds'),
  }),
});
