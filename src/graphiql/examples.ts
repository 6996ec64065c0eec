// What GraphiQL shows a newcomer: one document with the first operations to try, so the key goes into
// the Headers tab once (each GraphiQL tab has headers of its own). Kept valid against the schema by
// test/graphiql/examples.test.ts.

/** ASCII only: browsers refuse a header value outside ISO-8859-1 before sending anything. */
export const PLACEHOLDER_HEADERS = JSON.stringify({ Authorization: 'Bearer vq_your_key_here' }, null, 2);

export const EXAMPLE_VARIABLES = JSON.stringify({ videoId: 'vid_paste_a_video_id', jobId: 'job_paste_a_job_id' }, null, 2);

export const EXAMPLE_OPERATIONS = `# Welcome to vidq's GraphQL API.
#
# 1. Put your API key in the Headers tab
#    below, in place of vq_your_key_here
#    (npx vidq keys create --user USER_ID).
# 2. Press the run button and pick an
#    operation, or put the cursor in one
#    and press Ctrl-Enter.
#
# Subscriptions stream here over SSE, with
# the same headers. Uploads are multipart
# requests, which GraphiQL cannot send:
# see the README (curl -F).

query Viewer {
  viewer {
    id
    name
    credits
    isAdmin
  }
}

query Videos {
  videos(first: 10) {
    __typename
    ... on VideoConnection {
      nodes {
        id
        title
        format
        sizeBytes
        metadata {
          durationSeconds
          width
          height
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
    ... on Error {
      code
      message
    }
  }
}

mutation SubmitJob($videoId: ID!) {
  submitJob(input: { videoId: $videoId, model: ORIGINAL, outputFormat: MP4 }) {
    __typename
    ... on SubmitJobSuccess {
      job {
        id
        status
        costCredits
      }
    }
    ... on Error {
      code
      message
      detail
    }
  }
}

subscription JobUpdated($jobId: ID!) {
  jobUpdated(jobId: $jobId) {
    __typename
    ... on JobEvent {
      sequence
      type
      status
      stage
      progress
    }
    ... on Error {
      code
      message
    }
  }
}
`;
