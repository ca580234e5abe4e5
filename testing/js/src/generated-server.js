// Stands in for `convex/_generated/server` when the functions folder has none (a fresh app, or a repository
// that does not commit `_generated/`): what `npx convex codegen` writes there, without the types, which
// Node does not need. The generated builders are the generic ones under the generated names.

export {
  actionGeneric as action,
  httpActionGeneric as httpAction,
  internalActionGeneric as internalAction,
  internalMutationGeneric as internalMutation,
  internalQueryGeneric as internalQuery,
  mutationGeneric as mutation,
  queryGeneric as query,
} from "convex/server";
