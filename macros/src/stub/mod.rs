//! `#[query]`, `#[mutation]` and `#[action]`: parse the attribute and the stub, validate them into a model,
//! expand the model.

mod attr;
mod expand;
mod model;

use proc_macro2::TokenStream;
use quote::quote;

pub(crate) use expand::expand;
pub(crate) use model::Stub;

use crate::kind::Kind;

/// The expansion; with errors, the errors and beside them what can still be expanded (the function and its
/// args struct), so that the stub's uses do not add errors of their own and editors keep completing it.
pub(crate) fn stub(kind: Kind, attr: TokenStream, item: TokenStream) -> TokenStream {
    let item: model::StubFn = match syn::parse2(item) {
        Ok(item) => item,
        Err(e) => return e.into_compile_error(),
    };
    let attr = syn::parse2::<attr::StubAttr>(attr).unwrap_or_else(attr::StubAttr::failed);
    let model::Validated {
        stub,
        krate,
        errors,
    } = Stub::validate(kind, attr, item);
    let expansion = stub
        .map(|stub| expand(&stub, &crate::crate_path::resolve(krate.as_ref())))
        .unwrap_or_default();
    match errors {
        Ok(()) => expansion,
        Err(errors) => {
            let errors = errors.into_compile_error();
            quote!(#errors #expansion)
        }
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn expanded(attr: TokenStream, item: TokenStream) -> String {
        stub(Kind::Query, attr, item).to_string()
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
