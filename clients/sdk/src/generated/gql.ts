/* eslint-disable */
import * as types from './graphql.js';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment ErrorFields on Error {\n    __typename\n    code\n    message\n    detail\n    retryable\n    ... on InvalidInputError {\n      fieldErrors {\n        path\n        message\n      }\n    }\n    ... on InsufficientCreditsError {\n      required\n      available\n    }\n    ... on JobAlreadyProcessingError {\n      jobId\n      videoId\n    }\n    ... on JobNotCompleteError {\n      status\n    }\n    ... on UploadIncompleteError {\n      offset\n      length\n    }\n    ... on FileTooLargeError {\n      maxBytes\n    }\n    ... on UnsupportedFormatError {\n      supportedFormats\n    }\n    ... on RateLimitedError {\n      retryAfterSeconds\n    }\n  }\n": typeof types.ErrorFieldsFragmentDoc,
    "\n  fragment VideoFields on Video {\n    id\n    filename\n    format\n    contentType\n    sizeBytes\n    sha256\n    title\n    recordedAt\n    createdAt\n    metadata {\n      durationSeconds\n      width\n      height\n      videoCodec\n      audioCodec\n      frameRate\n      bitRate\n    }\n  }\n": typeof types.VideoFieldsFragmentDoc,
    "\n  fragment JobFields on Job {\n    id\n    status\n    progress\n    stage\n    attempt\n    maxAttempts\n    timeoutSeconds\n    createdAt\n    startedAt\n    finishedAt\n    webhookUrl\n    video {\n      id\n    }\n    options {\n      model\n      outputFormat\n    }\n    stages {\n      name\n      status\n      attempts\n      progress\n    }\n    error {\n      code\n      message\n      detail\n      stage\n      retryable\n    }\n  }\n": typeof types.JobFieldsFragmentDoc,
    "\n  fragment JobEventFields on JobEvent {\n    __typename\n    jobId\n    sequence\n    type\n    status\n    progress\n    stage\n    at\n    error {\n      code\n      message\n      detail\n      stage\n      retryable\n    }\n    details {\n      __typename\n      ... on JobQueuedDetails {\n        costCredits\n        stages\n        retryOf\n        keptStages\n      }\n      ... on JobStartedDetails {\n        attempt\n        maxAttempts\n        recovered\n      }\n      ... on StageStartedDetails {\n        attempt\n      }\n      ... on StageProgressDetails {\n        stageProgress\n      }\n      ... on StageCompletedDetails {\n        stageStatus\n        skipReason\n      }\n      ... on RetryScheduledDetails {\n        attempt\n        retriesLeft\n        reason\n        backoff\n      }\n      ... on JobEndedDetails {\n        retriesExhausted\n        cancelledBy\n        wasStatus\n      }\n    }\n  }\n": typeof types.JobEventFieldsFragmentDoc,
    "\n  mutation CreateVideoFromUpload($input: CreateVideoFromUploadInput!) {\n    createVideoFromUpload(input: $input) {\n      __typename\n      ... on UploadVideoSuccess {\n        video {\n          ...VideoFields\n        }\n      }\n      ...ErrorFields\n    }\n  }\n": typeof types.CreateVideoFromUploadDocument,
    "\n  mutation SubmitJob($input: SubmitJobInput!) {\n    submitJob(input: $input) {\n      __typename\n      ... on SubmitJobSuccess {\n        job {\n          ...JobFields\n        }\n      }\n      ...ErrorFields\n    }\n  }\n": typeof types.SubmitJobDocument,
    "\n  query Job($id: ID!) {\n    job(id: $id) {\n      __typename\n      ...JobFields\n      ...ErrorFields\n    }\n  }\n": typeof types.JobDocument,
    "\n  query Video($id: ID!) {\n    video(id: $id) {\n      __typename\n      ...VideoFields\n      ...ErrorFields\n    }\n  }\n": typeof types.VideoDocument,
    "\n  mutation CancelJob($id: ID!) {\n    cancelJob(id: $id) {\n      __typename\n      ... on CancelJobSuccess {\n        job {\n          ...JobFields\n        }\n      }\n      ...ErrorFields\n    }\n  }\n": typeof types.CancelJobDocument,
    "\n  mutation RetryJob($id: ID!, $timeoutSeconds: Int) {\n    retryJob(id: $id, timeoutSeconds: $timeoutSeconds) {\n      __typename\n      ... on RetryJobSuccess {\n        job {\n          ...JobFields\n        }\n      }\n      ...ErrorFields\n    }\n  }\n": typeof types.RetryJobDocument,
    "\n  query JobOutput($jobId: ID!) {\n    jobOutput(jobId: $jobId) {\n      __typename\n      ... on JobOutput {\n        jobId\n        files {\n          kind\n          stage\n          url\n          contentType\n          sizeBytes\n        }\n        probe {\n          durationSeconds\n          width\n          height\n          videoCodec\n          audioCodec\n          frameRate\n          bitRate\n        }\n        transcode {\n          file\n          format\n          codec\n          audioCodec\n          width\n          height\n          durationSeconds\n          sizeBytes\n          hasAlpha\n        }\n        thumbnails {\n          width\n          poster {\n            file\n            time\n          }\n          thumbnails {\n            file\n            time\n          }\n        }\n        audio {\n          durationSeconds\n          loudness {\n            integratedLufs\n            loudnessRangeLu\n            truePeakDbfs\n          }\n          silences {\n            start\n            end\n          }\n        }\n        scenes {\n          threshold\n          scenes {\n            index\n            start\n            end\n            hash\n          }\n        }\n        results\n      }\n      ...ErrorFields\n    }\n  }\n": typeof types.JobOutputDocument,
    "\n  subscription JobUpdated($jobId: ID!, $afterSequence: Int) {\n    jobUpdated(jobId: $jobId, afterSequence: $afterSequence) {\n      __typename\n      ...JobEventFields\n      ...ErrorFields\n    }\n  }\n": typeof types.JobUpdatedDocument,
};
const documents: Documents = {
    "\n  fragment ErrorFields on Error {\n    __typename\n    code\n    message\n    detail\n    retryable\n    ... on InvalidInputError {\n      fieldErrors {\n        path\n        message\n      }\n    }\n    ... on InsufficientCreditsError {\n      required\n      available\n    }\n    ... on JobAlreadyProcessingError {\n      jobId\n      videoId\n    }\n    ... on JobNotCompleteError {\n      status\n    }\n    ... on UploadIncompleteError {\n      offset\n      length\n    }\n    ... on FileTooLargeError {\n      maxBytes\n    }\n    ... on UnsupportedFormatError {\n      supportedFormats\n    }\n    ... on RateLimitedError {\n      retryAfterSeconds\n    }\n  }\n": types.ErrorFieldsFragmentDoc,
    "\n  fragment VideoFields on Video {\n    id\n    filename\n    format\n    contentType\n    sizeBytes\n    sha256\n    title\n    recordedAt\n    createdAt\n    metadata {\n      durationSeconds\n      width\n      height\n      videoCodec\n      audioCodec\n      frameRate\n      bitRate\n    }\n  }\n": types.VideoFieldsFragmentDoc,
    "\n  fragment JobFields on Job {\n    id\n    status\n    progress\n    stage\n    attempt\n    maxAttempts\n    timeoutSeconds\n    createdAt\n    startedAt\n    finishedAt\n    webhookUrl\n    video {\n      id\n    }\n    options {\n      model\n      outputFormat\n    }\n    stages {\n      name\n      status\n      attempts\n      progress\n    }\n    error {\n      code\n      message\n      detail\n      stage\n      retryable\n    }\n  }\n": types.JobFieldsFragmentDoc,
    "\n  fragment JobEventFields on JobEvent {\n    __typename\n    jobId\n    sequence\n    type\n    status\n    progress\n    stage\n    at\n    error {\n      code\n      message\n      detail\n      stage\n      retryable\n    }\n    details {\n      __typename\n      ... on JobQueuedDetails {\n        costCredits\n        stages\n        retryOf\n        keptStages\n      }\n      ... on JobStartedDetails {\n        attempt\n        maxAttempts\n        recovered\n      }\n      ... on StageStartedDetails {\n        attempt\n      }\n      ... on StageProgressDetails {\n        stageProgress\n      }\n      ... on StageCompletedDetails {\n        stageStatus\n        skipReason\n      }\n      ... on RetryScheduledDetails {\n        attempt\n        retriesLeft\n        reason\n        backoff\n      }\n      ... on JobEndedDetails {\n        retriesExhausted\n        cancelledBy\n        wasStatus\n      }\n    }\n  }\n": types.JobEventFieldsFragmentDoc,
    "\n  mutation CreateVideoFromUpload($input: CreateVideoFromUploadInput!) {\n    createVideoFromUpload(input: $input) {\n      __typename\n      ... on UploadVideoSuccess {\n        video {\n          ...VideoFields\n        }\n      }\n      ...ErrorFields\n    }\n  }\n": types.CreateVideoFromUploadDocument,
    "\n  mutation SubmitJob($input: SubmitJobInput!) {\n    submitJob(input: $input) {\n      __typename\n      ... on SubmitJobSuccess {\n        job {\n          ...JobFields\n        }\n      }\n      ...ErrorFields\n    }\n  }\n": types.SubmitJobDocument,
    "\n  query Job($id: ID!) {\n    job(id: $id) {\n      __typename\n      ...JobFields\n      ...ErrorFields\n    }\n  }\n": types.JobDocument,
    "\n  query Video($id: ID!) {\n    video(id: $id) {\n      __typename\n      ...VideoFields\n      ...ErrorFields\n    }\n  }\n": types.VideoDocument,
    "\n  mutation CancelJob($id: ID!) {\n    cancelJob(id: $id) {\n      __typename\n      ... on CancelJobSuccess {\n        job {\n          ...JobFields\n        }\n      }\n      ...ErrorFields\n    }\n  }\n": types.CancelJobDocument,
    "\n  mutation RetryJob($id: ID!, $timeoutSeconds: Int) {\n    retryJob(id: $id, timeoutSeconds: $timeoutSeconds) {\n      __typename\n      ... on RetryJobSuccess {\n        job {\n          ...JobFields\n        }\n      }\n      ...ErrorFields\n    }\n  }\n": types.RetryJobDocument,
    "\n  query JobOutput($jobId: ID!) {\n    jobOutput(jobId: $jobId) {\n      __typename\n      ... on JobOutput {\n        jobId\n        files {\n          kind\n          stage\n          url\n          contentType\n          sizeBytes\n        }\n        probe {\n          durationSeconds\n          width\n          height\n          videoCodec\n          audioCodec\n          frameRate\n          bitRate\n        }\n        transcode {\n          file\n          format\n          codec\n          audioCodec\n          width\n          height\n          durationSeconds\n          sizeBytes\n          hasAlpha\n        }\n        thumbnails {\n          width\n          poster {\n            file\n            time\n          }\n          thumbnails {\n            file\n            time\n          }\n        }\n        audio {\n          durationSeconds\n          loudness {\n            integratedLufs\n            loudnessRangeLu\n            truePeakDbfs\n          }\n          silences {\n            start\n            end\n          }\n        }\n        scenes {\n          threshold\n          scenes {\n            index\n            start\n            end\n            hash\n          }\n        }\n        results\n      }\n      ...ErrorFields\n    }\n  }\n": types.JobOutputDocument,
    "\n  subscription JobUpdated($jobId: ID!, $afterSequence: Int) {\n    jobUpdated(jobId: $jobId, afterSequence: $afterSequence) {\n      __typename\n      ...JobEventFields\n      ...ErrorFields\n    }\n  }\n": types.JobUpdatedDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ErrorFields on Error {\n    __typename\n    code\n    message\n    detail\n    retryable\n    ... on InvalidInputError {\n      fieldErrors {\n        path\n        message\n      }\n    }\n    ... on InsufficientCreditsError {\n      required\n      available\n    }\n    ... on JobAlreadyProcessingError {\n      jobId\n      videoId\n    }\n    ... on JobNotCompleteError {\n      status\n    }\n    ... on UploadIncompleteError {\n      offset\n      length\n    }\n    ... on FileTooLargeError {\n      maxBytes\n    }\n    ... on UnsupportedFormatError {\n      supportedFormats\n    }\n    ... on RateLimitedError {\n      retryAfterSeconds\n    }\n  }\n"): typeof import('./graphql.js').ErrorFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment VideoFields on Video {\n    id\n    filename\n    format\n    contentType\n    sizeBytes\n    sha256\n    title\n    recordedAt\n    createdAt\n    metadata {\n      durationSeconds\n      width\n      height\n      videoCodec\n      audioCodec\n      frameRate\n      bitRate\n    }\n  }\n"): typeof import('./graphql.js').VideoFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment JobFields on Job {\n    id\n    status\n    progress\n    stage\n    attempt\n    maxAttempts\n    timeoutSeconds\n    createdAt\n    startedAt\n    finishedAt\n    webhookUrl\n    video {\n      id\n    }\n    options {\n      model\n      outputFormat\n    }\n    stages {\n      name\n      status\n      attempts\n      progress\n    }\n    error {\n      code\n      message\n      detail\n      stage\n      retryable\n    }\n  }\n"): typeof import('./graphql.js').JobFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment JobEventFields on JobEvent {\n    __typename\n    jobId\n    sequence\n    type\n    status\n    progress\n    stage\n    at\n    error {\n      code\n      message\n      detail\n      stage\n      retryable\n    }\n    details {\n      __typename\n      ... on JobQueuedDetails {\n        costCredits\n        stages\n        retryOf\n        keptStages\n      }\n      ... on JobStartedDetails {\n        attempt\n        maxAttempts\n        recovered\n      }\n      ... on StageStartedDetails {\n        attempt\n      }\n      ... on StageProgressDetails {\n        stageProgress\n      }\n      ... on StageCompletedDetails {\n        stageStatus\n        skipReason\n      }\n      ... on RetryScheduledDetails {\n        attempt\n        retriesLeft\n        reason\n        backoff\n      }\n      ... on JobEndedDetails {\n        retriesExhausted\n        cancelledBy\n        wasStatus\n      }\n    }\n  }\n"): typeof import('./graphql.js').JobEventFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateVideoFromUpload($input: CreateVideoFromUploadInput!) {\n    createVideoFromUpload(input: $input) {\n      __typename\n      ... on UploadVideoSuccess {\n        video {\n          ...VideoFields\n        }\n      }\n      ...ErrorFields\n    }\n  }\n"): typeof import('./graphql.js').CreateVideoFromUploadDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SubmitJob($input: SubmitJobInput!) {\n    submitJob(input: $input) {\n      __typename\n      ... on SubmitJobSuccess {\n        job {\n          ...JobFields\n        }\n      }\n      ...ErrorFields\n    }\n  }\n"): typeof import('./graphql.js').SubmitJobDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Job($id: ID!) {\n    job(id: $id) {\n      __typename\n      ...JobFields\n      ...ErrorFields\n    }\n  }\n"): typeof import('./graphql.js').JobDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Video($id: ID!) {\n    video(id: $id) {\n      __typename\n      ...VideoFields\n      ...ErrorFields\n    }\n  }\n"): typeof import('./graphql.js').VideoDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelJob($id: ID!) {\n    cancelJob(id: $id) {\n      __typename\n      ... on CancelJobSuccess {\n        job {\n          ...JobFields\n        }\n      }\n      ...ErrorFields\n    }\n  }\n"): typeof import('./graphql.js').CancelJobDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RetryJob($id: ID!, $timeoutSeconds: Int) {\n    retryJob(id: $id, timeoutSeconds: $timeoutSeconds) {\n      __typename\n      ... on RetryJobSuccess {\n        job {\n          ...JobFields\n        }\n      }\n      ...ErrorFields\n    }\n  }\n"): typeof import('./graphql.js').RetryJobDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query JobOutput($jobId: ID!) {\n    jobOutput(jobId: $jobId) {\n      __typename\n      ... on JobOutput {\n        jobId\n        files {\n          kind\n          stage\n          url\n          contentType\n          sizeBytes\n        }\n        probe {\n          durationSeconds\n          width\n          height\n          videoCodec\n          audioCodec\n          frameRate\n          bitRate\n        }\n        transcode {\n          file\n          format\n          codec\n          audioCodec\n          width\n          height\n          durationSeconds\n          sizeBytes\n          hasAlpha\n        }\n        thumbnails {\n          width\n          poster {\n            file\n            time\n          }\n          thumbnails {\n            file\n            time\n          }\n        }\n        audio {\n          durationSeconds\n          loudness {\n            integratedLufs\n            loudnessRangeLu\n            truePeakDbfs\n          }\n          silences {\n            start\n            end\n          }\n        }\n        scenes {\n          threshold\n          scenes {\n            index\n            start\n            end\n            hash\n          }\n        }\n        results\n      }\n      ...ErrorFields\n    }\n  }\n"): typeof import('./graphql.js').JobOutputDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription JobUpdated($jobId: ID!, $afterSequence: Int) {\n    jobUpdated(jobId: $jobId, afterSequence: $afterSequence) {\n      __typename\n      ...JobEventFields\n      ...ErrorFields\n    }\n  }\n"): typeof import('./graphql.js').JobUpdatedDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
