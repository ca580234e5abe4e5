//! `#[query]`, `#[mutation]` and `#[action]`: parse the attribute and the stub, validate them into a model,
//! expand the model.

mod attr;
mod expand;
mod model;

use proc_macro2::TokenStream;
use quote::quote;

pub(crate) use expand::expand;
pub(crate) use model::{Kind, Param, Stub};

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
