//! The procedural macros of [convex-fetch](https://docs.rs/convex-fetch): typed stubs for Convex queries,
//! mutations and actions, and inline calls. Use them through the `convex-fetch` crate, which re-exports them
//! and documents them with examples.
//!
//! Each macro parses its input, validates it into a small model (recording every error at its own span), then
//! expands the model. A stub with errors still expands, beside its `compile_error!`s, to its function and args
//! struct, so that its uses add no errors of their own and editors keep completing them. The expansion names
//! the runtime through its hidden `__private` module, found under whatever name the user's `Cargo.toml` gives
//! the crate, or at the path a `crate = "…"` option gives.
//!
//! Function paths, identifiers and field names are checked by `grammar.rs`, the backend's rules in one file
//! that depends on nothing but std.

mod api;
mod case;
mod crate_path;
mod errors;
mod grammar;
mod inline;
mod kind;
mod spec_check;
mod stub;

use proc_macro::TokenStream;

use kind::Kind;

/// Declares a typed stub for a Convex query. See the `convex-fetch` crate.
#[proc_macro_attribute]
pub fn query(attr: TokenStream, item: TokenStream) -> TokenStream {
    stub::stub(Kind::Query, attr.into(), item.into(), block_at_call_site).into()
}

/// Declares a typed stub for a Convex mutation. See the `convex-fetch` crate.
#[proc_macro_attribute]
pub fn mutation(attr: TokenStream, item: TokenStream) -> TokenStream {
    stub::stub(Kind::Mutation, attr.into(), item.into(), block_at_call_site).into()
}

/// Declares a typed stub for a Convex action. See the `convex-fetch` crate.
#[proc_macro_attribute]
pub fn action(attr: TokenStream, item: TokenStream) -> TokenStream {
    stub::stub(Kind::Action, attr.into(), item.into(), block_at_call_site).into()
}

/// The `trait` or `impl` block around the attribute being expanded, read from its source file.
fn block_at_call_site(fn_name: &str) -> Option<stub::Block> {
    let span = proc_macro::Span::call_site();
    let attribute = span.source_text()?;
    stub::block_around(
        &span.local_file()?,
        span.line(),
        span.column(),
        &attribute,
        fn_name,
    )
}

/// Makes an inline call to a Convex function. See the `convex-fetch` crate.
#[proc_macro]
pub fn convex_fetch(input: TokenStream) -> TokenStream {
    errors::output_expr(inline::inline(input.into()))
}

/// Generates typed stubs for every function of a deployment from its function spec. See the `convex-fetch`
/// crate.
#[proc_macro]
pub fn api(input: TokenStream) -> TokenStream {
    errors::output(api::api(input.into()))
}
