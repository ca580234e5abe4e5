//! `#[query]`, `#[mutation]` and `#[action]`: parse the attribute and the stub, validate them into a model,
//! expand the model.

mod attr;
mod expand;
mod model;
mod placement;

use proc_macro2::TokenStream;
use quote::quote;

pub(crate) use expand::expand;
pub(crate) use model::Stub;
pub(crate) use placement::{Block, block_around};

use crate::kind::Kind;

/// The expansion; with errors, the errors and beside them what can still be expanded (the function and its
/// args struct), so that the stub's uses do not add errors of their own and editors keep completing it.
///
/// `block_of` tells, from the function's name, whether the stub stands in a `trait` or `impl` block (see
/// `placement`), where nothing of the expansion but the error could stand.
pub(crate) fn stub(
    kind: Kind,
    attr: TokenStream,
    item: TokenStream,
    block_of: impl FnOnce(&str) -> Option<Block>,
) -> TokenStream {
    let item: model::StubFn = match syn::parse2(item) {
        Ok(item) => item,
        Err(e) => return e.into_compile_error(),
    };
    let item_name = item.sig.ident.to_string();
    let attr = syn::parse2::<attr::StubAttr>(attr).unwrap_or_else(attr::StubAttr::failed);
    let model::Validated {
        stub,
        krate,
        errors,
    } = Stub::validate(kind, attr, item);
    // In a block, nothing of the expansion could stand: the placement's error first, then the stub's own.
    let placement = block_of(&item_name).map(|block| {
        let message = format!(
            "a stub goes at module level, not in {block}: move `{item_name}` out of the block (e.g. into a \
             `mod api {{ … }}` beside it) and call it as `api::{item_name}(…)`",
            block = block.described(),
        );
        syn::Error::new(proc_macro2::Span::call_site(), message).into_compile_error()
    });
    let expansion = match (&placement, stub) {
        (None, Some(stub)) => expand(&stub, &crate::crate_path::resolve(krate.as_ref())),
        _ => TokenStream::new(),
    };
    let errors = errors.err().map(|errors| errors.into_compile_error());
    quote!(#placement #errors #expansion)
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn expanded(attr: TokenStream, item: TokenStream) -> String {
        stub(Kind::Query, attr, item, |_| None).to_string()
    }

    #[test]
    fn a_stub_in_a_block_expands_to_its_error_alone() {
        let out = stub(
            Kind::Query,
            quote!("posts:list"),
            quote!(
                pub async fn list_posts() -> Vec<String>;
            ),
            |name| (name == "list_posts").then_some(Block::Impl),
        )
        .to_string();
        assert!(out.contains("compile_error"), "{out}");
        assert!(
            out.contains("not in an `impl` block: move `list_posts` out"),
            "{out}"
        );
        assert!(!out.contains("pub struct"), "{out}");
    }

    #[test]
    fn a_stub_with_errors_still_declares_its_function_and_args_struct() {
        let out = expanded(
            quote!("posts::list"),
            quote!(
                pub async fn list_posts(limit: u32, title: &str) -> Vec<String>;
            ),
        );
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("pub struct ListPostsQuery { # [doc = \"`limit` of the args object.\"] pub limit : u32 , }"), "{out}");
        assert!(
            out.contains("pub fn list_posts (limit : u32 , title : & str)"),
            "{out}"
        );
        assert!(
            out.contains("Call :: new (ListPostsQuery { limit })"),
            "{out}"
        );
    }

    #[test]
    fn an_attribute_that_fails_to_parse_keeps_the_errors_before_it_and_the_stub() {
        let out = expanded(
            quote!(rename_all = "kebab", 42),
            quote!(
                pub async fn count() -> u64;
            ),
        );
        assert_eq!(out.matches("compile_error").count(), 2, "{out}");
        assert!(out.contains("unknown rename rule"), "{out}");
        assert!(
            out.contains("expected the function path as a string"),
            "{out}"
        );
        assert!(!out.contains("missing the function path"), "{out}");
        assert!(out.contains("pub fn count ()"), "{out}");
    }

    #[test]
    fn a_method_stub_expands_to_its_errors_alone() {
        let out = expanded(
            quote!("posts:count"),
            quote!(
                pub async fn count(&self) -> u64;
            ),
        );
        assert!(out.contains("remove `self`"), "{out}");
        assert!(!out.contains("struct"), "{out}");
    }

    #[test]
    fn a_valid_stub_has_no_errors_and_its_impls_are_automatically_derived() {
        let out = expanded(
            quote!("posts:count"),
            quote!(
                pub async fn count() -> u64;
            ),
        );
        assert!(!out.contains("compile_error"), "{out}");
        assert_eq!(
            out.matches("# [automatically_derived] impl").count(),
            3,
            "{out}"
        );
    }
}
