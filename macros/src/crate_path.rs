//! How the expansion names the runtime crate, whatever name the user's Cargo.toml gives it.

use proc_macro2::{Span, TokenStream};
use quote::quote;

/// `::convex_fetch`, or `::convex` when the user wrote `convex = { package = "convex-fetch" }`; `explicit` (the
/// `crate = "…"` option) wins, for a crate that re-exports this one.
pub(crate) fn resolve(explicit: Option<&syn::Path>) -> TokenStream {
    if let Some(path) = explicit {
        return quote!(#path);
    }
    match proc_macro_crate::crate_name("convex-fetch") {
        Ok(proc_macro_crate::FoundCrate::Name(name)) => {
            let ident = syn::Ident::new(&name, Span::call_site());
            quote!(::#ident)
        }
        // Inside the runtime crate itself, `extern crate self as convex_fetch` makes this path work; a
        // manifest that cannot be read falls back to the package's own name too.
        Ok(proc_macro_crate::FoundCrate::Itself) | Err(_) => quote!(::convex_fetch),
    }
}

/// The value of a `crate = "…"` option: a path to the runtime crate.
pub(crate) fn parse(lit: &syn::LitStr) -> syn::Result<syn::Path> {
    lit.parse::<syn::Path>().map_err(|_| {
        syn::Error::new(
            lit.span(),
            "expected a path to the convex-fetch crate, e.g. \"::convex\"",
        )
    })
}
