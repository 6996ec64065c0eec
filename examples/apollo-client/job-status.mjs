// Apollo Client 4 against vidq, with the possibleTypes vidq ships (clients/possibleTypes.json).
// Without them Apollo's cache silently drops the fields of `... on Error` (code, message).
//
//   VIDQ_API_KEY=vq_… node examples/apollo-client/job-status.mjs [JOB_ID]
//
// VIDQ_URL (default http://localhost:4000) is the server.
import { readFileSync } from 'node:fs';
import { ApolloClient, gql, HttpLink, InMemoryCache } from '@apollo/client';

if (!process.env.VIDQ_API_KEY) {
  console.error('usage: VIDQ_API_KEY=vq_… node examples/apollo-client/job-status.mjs [JOB_ID]   (create a key with `vidq keys create --user USER_ID`)');
  process.exit(64);
}

const possibleTypes = JSON.parse(readFileSync(new URL('../../clients/possibleTypes.json', import.meta.url), 'utf8'));
const url = process.env.VIDQ_URL || 'http://localhost:4000';

const client = new ApolloClient({
  link: new HttpLink({ uri: `${url}/graphql`, headers: { authorization: `Bearer ${process.env.VIDQ_API_KEY}` } }),
  cache: new InMemoryCache({ possibleTypes }),
});

const JOB = gql`
  query JobStatus($id: ID!) {
    viewer {
      id
      name
      credits
    }
    job(id: $id) {
      __typename
      ... on Job {
        id
        status
        progress
        error {
          code
          message
        }
      }
      ... on Error {
        code
        message
      }
    }
  }
`;

let data;
try {
  ({ data } = await client.query({ query: JOB, variables: { id: process.argv[2] ?? 'job_unknown' } }));
} catch (error) {
  if (error instanceof TypeError && error.cause) {
    // fetch failed before any HTTP answer: nothing listens at `url`, or its host is unknown.
    const cause = error.cause.code ?? error.cause.message;
    console.error(`cannot reach vidq at ${url}/graphql (${cause}): is vidq running there? Set VIDQ_URL=http://host:port to point this example at it.`);
  } else {
    // A request-level error (a bad key, a limit): vidq answered, with a message for people and the
    // next step in extensions.detail.
    const detail = error.errors?.[0]?.extensions?.detail;
    console.error(`request failed: ${error.message}${detail && detail !== error.message ? ` (${detail})` : ''}`);
  }
  process.exit(1);
}
console.log(`signed in as ${data.viewer.name} (${data.viewer.credits} credits)`);
const job = data.job;
if (job.__typename === 'Job') {
  console.log(`job ${job.id} is ${job.status} (${Math.round(job.progress * 100)} %)`);
  if (job.error) console.log(`  ${job.error.code}: ${job.error.message}`);
} else {
  // An error member of the JobResult union: code and message arrive because of possibleTypes.
  console.log(`${job.__typename} ${job.code}: ${job.message}`);
}
