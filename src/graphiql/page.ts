// The GraphiQL page Yoga answers GET /graphql with (for a browser): vidq's options, and only files
// served by vidq itself (assets.ts).
import { type GraphQLSchema, introspectionFromSchema } from 'graphql';
import type { GraphiQLOptions } from 'graphql-yoga';
import { GRAPHIQL_FILES, graphiqlAssetUrl } from './assets';
import { EXAMPLE_OPERATIONS, EXAMPLE_VARIABLES, PLACEHOLDER_HEADERS } from './examples';

/** Options Yoga's GraphiQL passes on to GraphiQL itself, beyond those Yoga types. */
interface PageOptions extends GraphiQLOptions {
  /** Introspection result: GraphiQL shows the docs and completes fields without asking the server. */
  schema: unknown;
  variables: string;
}

export function graphiqlOptions(schema: GraphQLSchema): PageOptions {
  return {
    title: 'vidq',
    // GraphiQL sends its Headers tab with HTTP requests only, never in a WebSocket's connection_init:
    // over SSE (Accept: text/event-stream on /graphql) a subscription carries the key like a query does.
    subscriptionsProtocol: 'SSE',
    headers: PLACEHOLDER_HEADERS,
    // An API key is a credential: it stays in the page, not in the browser's storage.
    shouldPersistHeaders: false,
    defaultQuery: EXAMPLE_OPERATIONS,
    variables: EXAMPLE_VARIABLES,
    // Every GraphQL request needs a key, and GraphiQL introspects as soon as it opens, before one is
    // typed in: given the schema (public anyway: schema.graphql), it sends nothing until asked to.
    schema: introspectionFromSchema(schema),
  };
}

/** JSON that cannot end the <script> element it sits in. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderGraphiQLPage(options: PageOptions): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>${escapeHtml(options.title ?? 'GraphiQL')}</title>
    <link rel="icon" href="${graphiqlAssetUrl(GRAPHIQL_FILES.favicon)}">
    <link rel="stylesheet" href="${graphiqlAssetUrl(GRAPHIQL_FILES.style)}">
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>GraphiQL needs JavaScript.</noscript>
    <div id="root"></div>
    <script type="application/json" id="graphiql-options">${scriptJson(options)}</script>
    <script src="${graphiqlAssetUrl(GRAPHIQL_FILES.start)}"></script>
    <script src="${graphiqlAssetUrl(GRAPHIQL_FILES.script)}"></script>
  </body>
</html>
`;
}

/**
 * Yoga's GraphiQL settings for vidq. The page is rendered once, on its first request: neither the
 * schema nor the options change while the process runs.
 */
export function graphiqlForYoga(schema: GraphQLSchema) {
  let page: string | undefined;
  return {
    graphiql: true,
    renderGraphiQL: () => (page ??= renderGraphiQLPage(graphiqlOptions(schema))),
  };
}
