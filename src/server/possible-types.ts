// The possibleTypes map of the schema (each interface and union → the object types that can stand for
// it), which Apollo Client's InMemoryCache needs to read fragments such as `... on Error { code }`;
// committed as clients/possibleTypes.json by `npm run schema:print`.
import { type GraphQLSchema, isInterfaceType, isUnionType } from 'graphql';

export function possibleTypesOf(schema: GraphQLSchema): Record<string, string[]> {
  const map: Record<string, string[]> = {};
  for (const type of Object.values(schema.getTypeMap()).sort((a, b) => a.name.localeCompare(b.name))) {
    if (type.name.startsWith('__')) continue;
    if (isUnionType(type) || isInterfaceType(type)) {
      map[type.name] = schema
        .getPossibleTypes(type)
        .map((member) => member.name)
        .sort();
    }
  }
  return map;
}
