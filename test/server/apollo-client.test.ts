// Apollo Client 4 against vidq: with the shipped clients/possibleTypes.json its cache reads the fields of
// `... on Error` (code, message); without it, as the client's own docs warn, they come back missing.
// clients/possibleTypes.json is also checked to be current.
import { readFileSync } from 'node:fs';
import { ApolloClient, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { possibleTypesOf } from '../../src/server/possible-types';
import { buildSchema } from '../../src/server/schema';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';

const possibleTypes = JSON.parse(readFileSync(new URL('../../clients/possibleTypes.json', import.meta.url), 'utf8')) as Record<string, string[]>;

const JOB = gql`
  query Job($id: ID!) {
    job(id: $id) {
      __typename
      ... on Job {
        id
        status
      }
      ... on Error {
        code
        message
      }
    }
  }
`;

let app: TestApp;
let user: TestUser;

beforeAll(async () => {
  app = await startTestApp({ env: { ROLE: 'api' } });
  user = await app.createUser();
});
afterAll(async () => {
  await app?.close();
});

function client(cache: InMemoryCache) {
  return new ApolloClient({ link: new HttpLink({ uri: `${app.url}/graphql`, headers: { authorization: `Bearer ${user.key}` } }), cache });
}

describe('Apollo Client', () => {
  it('reads code and message of an error member with the shipped possibleTypes', async () => {
    const { data } = await client(new InMemoryCache({ possibleTypes })).query({ query: JOB, variables: { id: 'job_nosuchjob' } });
    expect(data).toEqual({ job: { __typename: 'JobNotFoundError', code: 'JOB_NOT_FOUND', message: 'The specified job could not be found.' } });
  });

  it('loses them without possibleTypes (why vidq ships the file)', async () => {
    const { data } = await client(new InMemoryCache()).query({ query: JOB, variables: { id: 'job_nosuchjob' }, errorPolicy: 'all' });
    expect((data as { job?: { code?: string } } | undefined)?.job?.code).toBeUndefined();
  });

  it('ships a possibleTypes.json that matches the schema (run `npm run schema:print` after changing the API)', () => {
    expect(possibleTypes).toEqual(possibleTypesOf(buildSchema()));
    expect(possibleTypes.Error).toContain('JobNotFoundError');
  });
});
