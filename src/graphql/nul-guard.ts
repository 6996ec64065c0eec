// No argument may carry a NUL character: PostgreSQL cannot store one in text, so it would reach the
// database and come back as an unexpected error (500, INTERNAL_ERROR). Every root field's arguments are
// checked before its resolver runs. Where the field's result union has InvalidInputError, that is the
// answer (with the path of each offending argument); elsewhere a GraphQL error with code INVALID_INPUT.
import { GraphQLError, type GraphQLField, type GraphQLSchema, getNamedType, isUnionType } from 'graphql';
import { wrapOrThrow } from '@pothos/plugin-errors';
import { type FieldError, InvalidInputError } from '../errors/app-errors';

/** Input objects: graphql-js builds inline ones with a null prototype, variables' with Object's. */
function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function findNul(value: unknown, path: string[], out: FieldError[], depth = 0): void {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) out.push({ path, message: 'must not contain NUL (\\u0000) characters' });
  } else if (Array.isArray(value)) {
    if (depth < 16) value.forEach((v, i) => findNul(v, [...path, String(i)], out, depth + 1));
  } else if (value && typeof value === 'object' && isPlainObject(value) && depth < 16) {
    // Plain objects only: an Upload's promise or a Date is not input text.
    for (const [k, v] of Object.entries(value)) findNul(v, [...path, k], out, depth + 1);
  }
}

function answersInvalidInput(field: GraphQLField<unknown, unknown>): boolean {
  const type = getNamedType(field.type);
  return isUnionType(type) && type.getTypes().some((t) => t.name === 'InvalidInputError');
}

function refusal(field: GraphQLField<unknown, unknown>, errors: FieldError[], asResult: boolean) {
  // Wrapped as Pothos's errors plugin wraps a thrown error, so the union resolves it to its member.
  if (asResult && answersInvalidInput(field)) return wrapOrThrow(new InvalidInputError(errors), [InvalidInputError], undefined);
  return new GraphQLError('The request is invalid.', {
    extensions: { code: 'INVALID_INPUT', fieldErrors: errors, http: { status: 400 } },
  });
}

/** Wraps the resolvers (and subscribers) of every root field that takes arguments. */
export function guardArgumentsAgainstNul(schema: GraphQLSchema): void {
  for (const root of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    for (const field of Object.values(root?.getFields() ?? {})) {
      if (!field.args.length) continue;
      const check = (args: Record<string, unknown>, asResult: boolean) => {
        const errors: FieldError[] = [];
        for (const [name, value] of Object.entries(args)) findNul(value, [name], errors);
        return errors.length ? refusal(field, errors, asResult) : null;
      };
      const { resolve, subscribe } = field;
      if (resolve) {
        field.resolve = (source, args, ctx, info) => {
          const refused = check(args, true);
          if (refused instanceof GraphQLError) throw refused;
          return refused ?? resolve(source, args, ctx, info);
        };
      }
      if (subscribe) {
        field.subscribe = (source, args, ctx, info) => {
          const refused = check(args, false); // a stream has no result to put a union member in
          if (refused) throw refused;
          return subscribe(source, args, ctx, info);
        };
      }
    }
  }
}
