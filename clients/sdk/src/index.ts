// @vidq/client: a typed client for vidq. See clients/sdk/README.md and examples/.
export { createVidqClient, VidqClient, type Job, type JobOutput, type Video, type VidqClientOptions } from './client.js';
export { VidqError, type FieldError, type VidqErrorFields } from './errors.js';
export type { FollowOptions, JobEvent, JobEventDetailsByType } from './follow.js';
export type { UploadOptions, UploadSource } from './upload.js';
export { verifyWebhook, type WebhookEvent, type WebhookJob, type WebhookJobError, type WebhookOutputFile } from './webhooks.js';
export type { ErrorCode, JobStatus, JobEventType, ProcessingModel, OutputFormat, SubmitJobInput } from './generated/graphql.js';
