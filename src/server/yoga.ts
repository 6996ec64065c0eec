// Yoga: the one GraphQL engine. HTTP requests and WebSocket operations both go through its envelope,
// so authentication, query limits and error masking apply the same way to both.
import { EnvelopArmor } from '@escape.tech/graphql-armor';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate, AuthenticationError } from '../auth/authenticate';
import { graphiqlForYoga } from '../graphiql/page';
import type { GraphQLContext, LiveFeeds } from '../graphql/context';
import { type Limits, rateLimitedError } from '../limits/index';
import { useSharedSubscriptionExecution } from '../live/shared-execution';
import { useMetrics } from '../metrics/graphql-plugin';
import type { Services } from '../services';
import { currentRequest } from './request-context';
import { useStreamLimit } from './stream-limit';
import { useNotAcceptableMessage } from './not-acceptable';
import { unavailableCause, unavailableMessage } from './unavailable';

export interface ServerContext {
  req: IncomingMessage;
  res?: ServerResponse;
  /** The operations, already read from the body by the HTTP server (graphql-body.ts, uploads). */
  parseBody?: () => unknown;
  /** WebSocket operations: the connection_init payload. */
  connectionParams?: Record<string, unknown>;
}

export type Yoga = YogaServerInstance<ServerContext, GraphQLContext>;

/**
 * Yoga's own log lines. An error goes through the logger's error serializer (`err`), never through
 * String(): its message may carry a failed statement's bound values (see serializeError).
 */
function yogaLog(services: Services, level: 'debug' | 'info' | 'warn' | 'error') {
  return (...args: unknown[]) => {
    const err = args.find((a) => a instanceof Error);
    const text = args
      .filter((a) => !(a instanceof Error))
      .map(String)
      .join(' ');
    // Yoga logs at error level every error whose masked form differs from it: a client's bad variable
    // (three stack traces for three typos would trip log-based alerting), or one maskUnexpected has
    // logged already at its own level. Those are kept at debug.
    const lineLevel = err && level === 'error' && passedThroughMask.has(err) ? 'debug' : level;
    if (err) services.log[lineLevel]({ err }, text || 'graphql-yoga reported an error');
    else services.log[lineLevel](text);
  };
}

/** Errors maskUnexpected has seen: it logs those that need it, so Yoga's own line for them is a repeat. */
const passedThroughMask = new WeakSet<object>();

/** Unexpected exceptions never reach the client: it sees a generic error and the request id. */
function maskUnexpected(services: Services) {
  return (error: unknown): Error => {
    if (error && typeof error === 'object') passedThroughMask.add(error);
    if (isVariableRefusal(error)) {
      // Whole, with the variable's path ("… at "input.model"; …"), and coded as the request error it is.
      return new GraphQLError(error.message, {
        nodes: error.nodes,
        extensions: {
          code: 'INVALID_INPUT',
          detail: `${error.message} Check the variables sent with the operation against schema.graphql.`,
          http: { spec: true, status: 400 },
        },
      });
    }
    if (error instanceof GraphQLError && (!error.originalError || error.originalError instanceof GraphQLError)) {
      return error.originalError instanceof GraphQLError ? error.originalError : error;
    }
    const requestId = currentRequest()?.requestId;
    const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
    const unavailable = unavailableCause(original);
    if (unavailable) {
      services.log.warn({ err: original, requestId }, `service unavailable: ${unavailable}`);
      return new GraphQLError(unavailableMessage(unavailable, requestId), {
        path: error instanceof GraphQLError ? error.path : undefined,
        extensions: { code: 'SERVICE_UNAVAILABLE', retryable: true, requestId, http: { status: 503 } },
      });
    }
    services.log.error({ err: original, requestId }, 'unexpected error (masked from the client)');
    return new GraphQLError(`Unexpected error. Quote request id ${requestId ?? 'unknown'} when reporting it.`, {
      path: error instanceof GraphQLError ? error.path : undefined,
      extensions: { code: 'INTERNAL_ERROR', requestId },
    });
  };
}

/**
 * A variable GraphQL refused before running anything (a value not in an enum, a missing required field,
 * a wrong type): graphql-js gives it no code, and its inner error lacks the variable's path. It is the
 * caller's mistake, INVALID_INPUT, as a REST body's is; 400 where the client accepts
 * application/graphql-response+json, 200 for application/json, like a validation error.
 */
function isVariableRefusal(error: unknown): error is GraphQLError {
  return error instanceof GraphQLError && !error.path && error.extensions.code === undefined && error.message.startsWith('Variable "$');
}

/**
 * graphql-armor's limits throw from inside validation, so the error misses the code and 400 status Yoga
 * gives other validation errors: clients could not tell "query too big" from any other failure.
 */
function asValidationError(_context: unknown, error: GraphQLError) {
  const extensions = error.extensions as Record<string, unknown>;
  extensions.code ??= 'GRAPHQL_VALIDATION_FAILED';
  extensions.http ??= { status: 400 };
}

/** Records the operation name for the access log. */
const useOperationName: Plugin = {
  onParams({ params }) {
    const info = currentRequest();
    if (info && params.operationName) info.operationName = params.operationName;
  },
};

/** Lets the HTTP server, which read the body before Yoga (graphql-body.ts, uploads), hand over the operations. */
const useParsedBody: Plugin = {
  onRequestParse({ serverContext, setRequestParser }) {
    const parse = (serverContext as Partial<ServerContext>).parseBody;
    if (parse) setRequestParser(parse as never);
  },
};

function originOf(initial: { request?: Request; req?: IncomingMessage }): string {
  const host = initial.req?.headers.host ?? (initial.request ? new URL(initial.request.url).host : 'localhost');
  return `http://${host}`;
}

/**
 * A wrong key over HTTP counts against the client's address (WebSockets count theirs at
 * connection_init); past the limit the failure is a 429 RATE_LIMITED instead of the 401. Only failures
 * get here: a valid key pays nothing.
 */
async function countFailure(limits: Limits | null, error: unknown, req: IncomingMessage | undefined): Promise<unknown> {
  const address = req?.socket?.remoteAddress;
  if (!limits || !address || !(error instanceof AuthenticationError) || error.failure !== 'INVALID_API_KEY') return error;
  const retryAfter = await limits.authFailures.failed(address);
  if (retryAfter === null) return error;
  return rateLimitedError(`Too many failed authentications from this address: retry after ${retryAfter} seconds.`, retryAfter);
}

export function createYogaServer(schema: GraphQLSchema, services: Services, live: LiveFeeds | null = null, limits: Limits | null = null): Yoga {
  const armor = new EnvelopArmor({
    maxDepth: { n: 12, onReject: [asValidationError] },
    maxAliases: { n: 30, onReject: [asValidationError] },
    maxTokens: { n: 5000 }, // a parse error: Yoga marks it GRAPHQL_PARSE_FAILED itself
    costLimit: { maxCost: 20_000, onReject: [asValidationError] },
    maxDirectives: { n: 50, onReject: [asValidationError] },
    blockFieldSuggestion: { enabled: false }, // suggestions help integrators; the schema is public
  });
  return createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // Browser apps on other origins only where GRAPHQL_CORS_ORIGINS allows them (the key travels in a
    // header, never a cookie: no credentials).
    cors: services.config.graphqlCorsOrigins.length
      ? {
          origin: services.config.graphqlCorsOrigins.includes('*') ? '*' : services.config.graphqlCorsOrigins,
          methods: ['GET', 'POST'],
          allowedHeaders: ['authorization', 'content-type', 'x-request-id'],
          exposedHeaders: ['x-request-id'],
          credentials: false,
          maxAge: 86400,
        }
      : false,
    multipart: false, // uploads are parsed before Yoga runs, each file streamed as it arrives (uploads/upload-request.ts; BENCHMARKS.md, Uploads)
    maxRequestBodySize: false, // POST bodies are read, capped, before Yoga runs (graphql-body.ts)
    ...graphiqlForYoga(schema), // served with its own files: works offline (src/graphiql)
    maskedErrors: { maskError: maskUnexpected(services) },
    logging: {
      debug: yogaLog(services, 'debug'),
      info: yogaLog(services, 'info'),
      warn: yogaLog(services, 'warn'),
      error: yogaLog(services, 'error'),
    },
    plugins: [
      ...armor.protect().plugins,
      useMetrics(),
      useOperationName,
      useParsedBody,
      ...(limits ? [useStreamLimit(limits)] : []),
      useSharedSubscriptionExecution(),
      useNotAcceptableMessage(), // after Yoga's own result processors
    ],
    context: async (initial) => {
      const authorization = initial.connectionParams ? initial.connectionParams.authorization : initial.request.headers.get('authorization');
      let viewer;
      try {
        viewer = await authenticate(services.database.db, authorization);
      } catch (error) {
        throw initial.connectionParams ? error : await countFailure(limits, error, initial.req);
      }
      const info = currentRequest();
      if (info) info.userId = viewer.id;
      const requestId = info?.requestId ?? 'unknown';
      const origin = services.config.publicUrl ?? originOf(initial);
      let log: ReturnType<GraphQLContext['log']> | undefined;
      return {
        requestId,
        origin,
        viewer,
        services,
        live,
        // A function, not a getter: envelop copies the context with Object.assign, which would call a
        // getter on every request. Most requests log nothing beyond the access log line.
        log: () => (log ??= services.log.child({ requestId, userId: viewer.id })),
      };
    },
  });
}
