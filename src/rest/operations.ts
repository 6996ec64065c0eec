// The GraphQL operations the REST paths run. REST is a mapping, not a second API: every rule (auth,
// validation, permissions, limits, metrics) is the GraphQL one.
const ERROR = `... on Error { __typename code message detail }`;
/** Only for results whose union has InvalidInputError (a spread on any other is a validation error). */
const FIELD_ERRORS = `... on InvalidInputError { fieldErrors { path message } }`;

const VIDEO = `id filename format contentType sizeBytes sha256 title recordedAt createdAt
  metadata { durationSeconds width height videoCodec audioCodec frameRate bitRate }`;

const JOB = `id status progress stage attempt maxAttempts pipeline costCredits createdAt startedAt finishedAt webhookUrl
  video { id } options { model outputFormat background { remove color similarity replaceWith } }
  stages { name status attempts progress startedAt finishedAt error { code message detail stage retryable } }
  error { code message detail stage retryable } nextStep`;

export const REST_OPERATIONS = {
  /** Only the key check (for a request refused before its own operation runs). */
  authenticate: `query RestAuthenticate { __typename }`,
  job: `query RestJob($id: ID!) { job(id: $id) { __typename ... on Job { ${JOB} } ${ERROR} } }`,
  jobResult: `query RestJobResult($id: ID!) { jobOutput(jobId: $id) { __typename
    ... on JobOutput { jobId files { kind stage url contentType sizeBytes } results }
    ... on JobNotCompleteError { status }
    ${ERROR} } }`,
  submitJob: `mutation RestSubmitJob($input: SubmitJobInput!) { submitJob(input: $input) { __typename ... on SubmitJobSuccess { job { ${JOB} } } ${ERROR} ${FIELD_ERRORS} } }`,
  video: `query RestVideo($id: ID!) { video(id: $id) { __typename ... on Video { ${VIDEO} } ${ERROR} } }`,
  uploadVideo: `mutation RestUploadVideo($input: UploadVideoInput!) { uploadVideo(input: $input) { __typename ... on UploadVideoSuccess { video { ${VIDEO} } } ${ERROR} ${FIELD_ERRORS} } }`,
  deleteVideo: `mutation RestDeleteVideo($id: ID!) { deleteVideo(id: $id) { __typename } }`,
  pricing: `query RestPricing { pricing { unit models { model creditsPerStartedMinute } } health { version config { maxFileSizeMb processingTimeoutSeconds storageDriver pipelines webhookMaxRetries webhookTimeoutMs } } }`,
} as const;
