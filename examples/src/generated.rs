//! The quickstart's functions declared from the deployment's function spec instead of by hand: the JSON that
//! `npx convex function-spec` prints, committed as `examples/convex/function_spec.json`.
//!
//! `convex::api!` generates `api::posts::list(…)`, `api::tasks::create(…)` and the rest, with their args
//! structs, result types and a marker type per table. Compare with the hand-written stubs of [`crate::api`].

convex::api!("convex/function_spec.json");
