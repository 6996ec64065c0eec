// Queries of the alerts domain's GraphQL API.
import { and, eq, inArray, type SQL } from 'drizzle-orm';
import { requireAdmin } from '../../auth/permissions';
import { alerts } from '../../db/schema/index';
import { builder } from '../../graphql/builder';
import { ForbiddenError, InvalidInputError } from '../../errors/app-errors';
import { pageQuery, toPage } from '../../db/pagination';
import { connectionRef } from '../../graphql/pagination';
import { AlertKindEnum, AlertRef } from './types';

const AlertConnectionRef = connectionRef('AlertConnection', AlertRef);

builder.queryField('alerts', (t) =>
  t.field({
    type: AlertConnectionRef,
    description: 'Operator alerts, newest first (admins only).',
    args: {
      first: t.arg.int({ required: false }),
      after: t.arg.string({ required: false }),
      kind: t.arg({ type: [AlertKindEnum], required: false }),
      jobId: t.arg.id({ required: false }),
    },
    errors: { types: [ForbiddenError, InvalidInputError], directResult: true, union: { name: 'AlertsResult' } },
    resolve: async (_root, args, ctx) => {
      requireAdmin(ctx.viewer, 'read alerts');
      const page = pageQuery(args, { createdAt: alerts.createdAt, id: alerts.id });
      const filters: (SQL | undefined)[] = [page.where];
      if (args.kind?.length) filters.push(inArray(alerts.kind, args.kind));
      if (args.jobId) filters.push(eq(alerts.jobId, args.jobId));
      const rows = await ctx.services.database.db
        .select()
        .from(alerts)
        .where(and(...filters))
        .orderBy(...page.orderBy)
        .limit(page.limit);
      return toPage(rows, page.limit);
    },
  }),
);
