//! The expansion of a validated stub: an args struct that is the function reference, and a function that
//! builds the call.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned as _;

use super::model::{FallbackInput, Stub};
use crate::kind::Kind;

pub(crate) fn expand(stub: &Stub, krate: &TokenStream) -> TokenStream {
    let Stub {
        kind,
        path,
        attrs,
        vis,
        ident,
        args_ident,
        derives,
        params,
        output,
        fallback,
        tracking,
    } = stub;
    let private = quote!(#krate::__private);
    let word = kind.word();
    let path_value = path.value();

    // `#[cfg]` applies to everything generated; the other attributes (docs, `deprecated`, lints) to the function.
    let (cfgs, fn_attrs): (Vec<_>, Vec<_>) = attrs.iter().partition(|a| a.path().is_ident("cfg"));

    // `derive(Deserialize)` goes through the runtime's serde and reads the wire names, as a handler receives them.
    let deserialize = derives
        .iter()
        .any(|d| d.segments.last().is_some_and(|s| s.ident == "Deserialize"));
    let derive_attrs = derives.iter().map(|d| {
        if d.segments.last().is_some_and(|s| s.ident == "Deserialize") {
            quote!(#[derive(#private::serde::Deserialize)])
        } else {
            quote!(#[derive(#d)])
        }
    });
    let serde_crate = deserialize.then(|| {
        let path = quote!(#private::serde).to_string();
        quote!(#[serde(crate = #path)])
    });
    let fields = params.iter().map(|p| {
        let (ident, ty, wire) = (&p.ident, &p.ty, &p.wire);
        let doc = if p.optional {
            format!("`{wire}` of the args object, left out when `None`.")
        } else {
            format!("`{wire}` of the args object.")
        };
        let serde = match (deserialize, p.optional) {
            (false, _) => quote!(),
            (true, false) => quote!(#[serde(rename = #wire)]),
            (true, true) => quote!(#[serde(rename = #wire, default)]),
        };
        quote!(#[doc = #doc] #serde #vis #ident: #ty)
    });
    let names: Vec<_> = params.iter().map(|p| &p.ident).collect();
    let types = params.iter().map(|p| &p.ty);
    let required = params.iter().filter(|p| !p.optional).count();
    let optional = params.iter().filter(|p| p.optional).map(|p| &p.ident);
    let serialize_fields = params.iter().map(|p| {
        let (ident, wire) = (&p.ident, &p.wire);
        // Spanned at the parameter's type, so that a type that is not `Serialize` is reported there.
        let field = quote_spanned! {p.ty.span()=>
            #private::serde::ser::SerializeStruct::serialize_field(&mut __s, #wire, &self.#ident)?;
        };
        if p.optional {
            quote!(if ::core::option::Option::is_some(&self.#ident) { #field } else { #private::serde::ser::SerializeStruct::skip_field(&mut __s, #wire)?; })
        } else {
            field
        }
    });
    let output = match output {
        Some(ty) => quote_spanned!(ty.span()=> type Output = #ty;),
        None => quote!(
            type Output = ();
        ),
    };
    let (kind_variant, kind_trait) = match kind {
        Kind::Query => (quote!(Query), quote!(Query)),
        Kind::Mutation => (quote!(Mutation), quote!(Mutation)),
        Kind::Action => (quote!(Action), quote!(Action)),
    };
    let struct_doc = format!(
        "The args of the Convex {word} `{path_value}`, and its typed reference: pass it to `fetch_{word}` or \
         `convex_fetch!`, or call [`{ident}`]."
    );
    let fn_doc = format!(
        "Calls the Convex {word} `{path_value}`. Set options (`.auth(token)`, `.on(&client)`, `.timeout(…)`, \
         `.verbose()`) before `.await`; the call resolves to `Result<_, convex::Error>`."
    );
    let name_str = args_ident.to_string();

    // The function's signature: its parameters are the fields, except beside errors, where it keeps the
    // user's parameters and generics (see `Fallback`).
    let signature = match fallback {
        None => quote!(#vis fn #ident(#(#names: #types),*) -> #private::Call<#args_ident>),
        Some(fallback) => {
            let inputs = fallback.inputs.iter().map(|input| match input {
                FallbackInput::Sent(i) => {
                    let (ident, ty) = (&params[*i].ident, &params[*i].ty);
                    quote!(#ident: #ty)
                }
                FallbackInput::Unsent(typed) => quote!(#typed),
            });
            let (generics, where_clause) = (&fallback.generics, &fallback.generics.where_clause);
            quote! {
                #[allow(unused_variables, unused_mut)]
                #vis fn #ident #generics(#(#inputs),*) -> #private::Call<#args_ident> #where_clause
            }
        }
    };

    quote! {
        #(#cfgs)*
        #[doc = #struct_doc]
        #(#derive_attrs)*
        #serde_crate
        #vis struct #args_ident { #(#fields,)* }

        #(#cfgs)*
        #[automatically_derived]
        impl #private::serde::Serialize for #args_ident {
            fn serialize<__S: #private::serde::Serializer>(
                &self,
                __serializer: __S,
            ) -> ::core::result::Result<__S::Ok, __S::Error> {
                let __len = #required #(+ usize::from(::core::option::Option::is_some(&self.#optional)))*;
                let mut __s = __serializer.serialize_struct(#name_str, __len)?;
                #(#serialize_fields)*
                #private::serde::ser::SerializeStruct::end(__s)
            }
        }

        #(#cfgs)*
        #[automatically_derived]
        impl #private::ConvexFunction for #args_ident {
            const KIND: #private::FunctionKind = #private::FunctionKind::#kind_variant;
            #output
            fn path(&self) -> &str {
                #tracking
                #path
            }
        }

        #(#cfgs)*
        #[automatically_derived]
        impl #private::#kind_trait for #args_ident {}

        #(#cfgs)*
        #(#fn_attrs)*
        #[doc = ""]
        #[doc = #fn_doc]
        #signature {
            #private::Call::new(#args_ident { #(#names),* })
        }
    }
}
