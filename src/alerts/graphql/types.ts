// Types of the alerts domain's GraphQL API.
import type { AlertRow } from '../../db/schema/index';
import { builder } from '../../graphql/builder';
import { ERROR_CODES, type ErrorCode } from '../../errors/catalog';
import { ErrorCodeEnum } from '../../graphql/errors';
import { QUEUES } from '../../queue/queues';
import { ALERT_KINDS } from '../alerts';
import { alertDeliveryJobId } from '../alert-webhook';

export const AlertKindEnum = builder.enumType('AlertKind', {
  values: {
    JOB_TIMED_OUT: { description: 'A job ran past its time limit and was stopped.' },
    JOB_FAILED: { description: 'A job failed permanently, or after its automatic retries.' },
    JOB_STUCK_QUEUED: { description: 'A job has waited in QUEUED longer than QUEUED_ALERT_SECONDS.' },
    WEBHOOK_CIRCUIT_OPEN: { description: 'A webhook endpoint kept failing: its circuit opened and deliveries to it are held back.' },
    WEBHOOK_ENDPOINT_DISABLED: { description: 'A webhook endpoint answered 410 Gone and was disabled: it receives no more events until enabled again.' },
  },
});

interface DeliveryShape {
  state: string;
  attempts: number;
  lastError: string | null;
}

const AlertDeliveryRef = builder.objectRef<DeliveryShape>('AlertDelivery').implement({
  description: 'The POST of this alert to ADMIN_ALERT_WEBHOOK_URL.',
  fields: (t) => ({
    state: t.exposeString('state', { description: 'created, retry, active, completed (delivered) or failed (gave up).' }),
    attempts: t.exposeInt('attempts'),
    lastError: t.exposeString('lastError', { nullable: true }),
  }),
});

export const AlertRef = builder.objectRef<AlertRow>('Alert').implement({
  description: 'Something an operator should look at: what happened, its code, and the next step.',
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.field({ type: AlertKindEnum, resolve: (a) => a.kind as (typeof ALERT_KINDS)[number] }),
    code: t.field({
      type: ErrorCodeEnum,
      description: 'The error code behind it (e.g. JOB_TIMEOUT, VIDEO_CORRUPT, WEBHOOK_DELIVERY_FAILED, SERVICE_UNAVAILABLE for a stuck queue).',
      resolve: (a) => ((ERROR_CODES as readonly string[]).includes(a.code) ? (a.code as ErrorCode) : 'INTERNAL_ERROR'),
    }),
    message: t.exposeString('message', { description: 'What happened, naming the job or endpoint.' }),
    nextStep: t.exposeString('nextStep', { description: 'What to do about it.' }),
    jobId: t.exposeID('jobId', { nullable: true }),
    endpointId: t.exposeID('endpointId', { nullable: true }),
    ownerId: t.exposeID('ownerId', { nullable: true }),
    data: t.field({ type: 'JSON', nullable: true, resolve: (a) => a.data }),
    createdAt: t.field({ type: 'DateTime', resolve: (a) => a.createdAt }),
    delivery: t.field({
      type: AlertDeliveryRef,
      nullable: true,
      description: 'Null when ADMIN_ALERT_WEBHOOK_URL is not set or the delivery is not enqueued yet.',
      resolve: async (a, _args, ctx) => {
        const job = await ctx.services.boss.getJobById(QUEUES.alertDelivery, alertDeliveryJobId(a.id));
        if (!job) return null;
        const output = job.output as { message?: string } | null;
        return { state: job.state, attempts: job.retryCount + (job.state === 'created' ? 0 : 1), lastError: output?.message ?? null };
      },
    }),
  }),
});
