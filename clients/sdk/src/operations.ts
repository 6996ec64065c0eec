// The SDK's GraphQL operations. `npm run codegen` turns them into typed documents in ./generated.
import { graphql } from './generated/index.js';

export const ErrorFieldsFragment = graphql(`
  fragment ErrorFields on Error {
    __typename
    code
    message
    detail
    retryable
    ... on InvalidInputError {
      fieldErrors {
        path
        message
      }
    }
    ... on InsufficientCreditsError {
      required
      available
    }
    ... on JobAlreadyProcessingError {
      jobId
      videoId
    }
    ... on JobNotCompleteError {
      status
    }
    ... on UploadIncompleteError {
      offset
      length
    }
    ... on FileTooLargeError {
      maxBytes
    }
    ... on UnsupportedFormatError {
      supportedFormats
    }
    ... on RateLimitedError {
      retryAfterSeconds
    }
  }
`);

export const VideoFieldsFragment = graphql(`
  fragment VideoFields on Video {
    id
    filename
    format
    contentType
    sizeBytes
    sha256
    title
    recordedAt
    createdAt
    metadata {
      durationSeconds
      width
      height
      videoCodec
      audioCodec
      frameRate
      bitRate
    }
  }
`);

export const JobFieldsFragment = graphql(`
  fragment JobFields on Job {
    id
    status
    progress
    stage
    attempt
    maxAttempts
    timeoutSeconds
    createdAt
    startedAt
    finishedAt
    webhookUrl
    video {
      id
    }
    options {
      model
      outputFormat
    }
    stages {
      name
      status
      attempts
      progress
    }
    error {
      code
      message
      detail
      stage
      retryable
    }
  }
`);

export const JobEventFieldsFragment = graphql(`
  fragment JobEventFields on JobEvent {
    __typename
    jobId
    sequence
    type
    status
    progress
    stage
    at
    error {
      code
      message
      detail
      stage
      retryable
    }
    details {
      __typename
      ... on JobQueuedDetails {
        costCredits
        stages
        retryOf
        keptStages
      }
      ... on JobStartedDetails {
        attempt
        maxAttempts
        recovered
      }
      ... on StageStartedDetails {
        attempt
      }
      ... on StageProgressDetails {
        stageProgress
      }
      ... on StageCompletedDetails {
        stageStatus
        skipReason
      }
      ... on RetryScheduledDetails {
        attempt
        retriesLeft
        reason
        backoff
      }
      ... on JobEndedDetails {
        retriesExhausted
        cancelledBy
        wasStatus
      }
    }
  }
`);

export const CreateVideoFromUploadDocument = graphql(`
  mutation CreateVideoFromUpload($input: CreateVideoFromUploadInput!) {
    createVideoFromUpload(input: $input) {
      __typename
      ... on UploadVideoSuccess {
        video {
          ...VideoFields
        }
      }
      ...ErrorFields
    }
  }
`);

export const SubmitJobDocument = graphql(`
  mutation SubmitJob($input: SubmitJobInput!) {
    submitJob(input: $input) {
      __typename
      ... on SubmitJobSuccess {
        job {
          ...JobFields
        }
      }
      ...ErrorFields
    }
  }
`);

export const JobDocument = graphql(`
  query Job($id: ID!) {
    job(id: $id) {
      __typename
      ...JobFields
      ...ErrorFields
    }
  }
`);

export const VideoDocument = graphql(`
  query Video($id: ID!) {
    video(id: $id) {
      __typename
      ...VideoFields
      ...ErrorFields
    }
  }
`);

export const CancelJobDocument = graphql(`
  mutation CancelJob($id: ID!) {
    cancelJob(id: $id) {
      __typename
      ... on CancelJobSuccess {
        job {
          ...JobFields
        }
      }
      ...ErrorFields
    }
  }
`);

export const RetryJobDocument = graphql(`
  mutation RetryJob($id: ID!, $timeoutSeconds: Int) {
    retryJob(id: $id, timeoutSeconds: $timeoutSeconds) {
      __typename
      ... on RetryJobSuccess {
        job {
          ...JobFields
        }
      }
      ...ErrorFields
    }
  }
`);

export const JobOutputDocument = graphql(`
  query JobOutput($jobId: ID!) {
    jobOutput(jobId: $jobId) {
      __typename
      ... on JobOutput {
        jobId
        files {
          kind
          stage
          url
          contentType
          sizeBytes
        }
        probe {
          durationSeconds
          width
          height
          videoCodec
          audioCodec
          frameRate
          bitRate
        }
        transcode {
          file
          format
          codec
          audioCodec
          width
          height
          durationSeconds
          sizeBytes
          hasAlpha
        }
        thumbnails {
          width
          poster {
            file
            time
          }
          thumbnails {
            file
            time
          }
        }
        audio {
          durationSeconds
          loudness {
            integratedLufs
            loudnessRangeLu
            truePeakDbfs
          }
          silences {
            start
            end
          }
        }
        scenes {
          threshold
          scenes {
            index
            start
            end
            hash
          }
        }
        results
      }
      ...ErrorFields
    }
  }
`);

export const JobUpdatedDocument = graphql(`
  subscription JobUpdated($jobId: ID!, $afterSequence: Int) {
    jobUpdated(jobId: $jobId, afterSequence: $afterSequence) {
      __typename
      ...JobEventFields
      ...ErrorFields
    }
  }
`);
