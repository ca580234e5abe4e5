// Stands in for `convex/_generated/api` when the functions folder has none: `api` and `internal` are
// `anyApi` in the generated file too (the types are what codegen adds), and `components` is
// `componentsGeneric()`.

import { anyApi, componentsGeneric } from "convex/server";

export const api = anyApi;
export const internal = anyApi;
export const components = componentsGeneric();
