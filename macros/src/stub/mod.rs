//! `#[query]`, `#[mutation]` and `#[action]`: parse the attribute and the stub, validate them into a model,
//! expand the model.

mod attr;
mod expand;
mod model;

use proc_macro2::TokenStream;

pub(crate) use expand::expand;
pub(crate) use model::{Kind, Param, Stub};

pub(crate) fn stub(kind: Kind, attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let attr: attr::StubAttr = syn::parse2(attr)?;
    let item: model::StubFn = syn::parse2(item)?;
    let (stub, krate) = model::Stub::validate(kind, attr, item)?;
    Ok(expand::expand(
        &stub,
        &crate::crate_path::resolve(krate.as_ref()),
    ))
}
