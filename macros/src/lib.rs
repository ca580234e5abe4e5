//! Procedural macros of `convex-fetch`. Use them through `convex-fetch`, which re-exports them.

use proc_macro::TokenStream;

/// Declares a typed stub for a Convex query.
#[proc_macro_attribute]
pub fn query(_attr: TokenStream, item: TokenStream) -> TokenStream {
    item
}

/// Declares a typed stub for a Convex mutation.
#[proc_macro_attribute]
pub fn mutation(_attr: TokenStream, item: TokenStream) -> TokenStream {
    item
}

/// Declares a typed stub for a Convex action.
#[proc_macro_attribute]
pub fn action(_attr: TokenStream, item: TokenStream) -> TokenStream {
    item
}

/// Calls a Convex function inline.
#[proc_macro]
pub fn convex_fetch(input: TokenStream) -> TokenStream {
    input
}
