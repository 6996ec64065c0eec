// The `health` query (the same report as GET /health).
import { builder } from '../../graphql/builder';
import { checkHealth } from '../check';
import { HealthRef } from './types';

builder.queryField('health', (t) => t.field({ type: HealthRef, resolve: (_root, _args, ctx) => checkHealth(ctx.services) }));
