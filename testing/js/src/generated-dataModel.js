// Stands in for `convex/_generated/dataModel` when the functions folder has none: the generated module
// holds types only (`Doc`, `Id`, `DataModel`), which TypeScript's type-only imports leave out at run time.

export {};
