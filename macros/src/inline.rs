//! `convex_fetch!`: an inline call, either untyped (`query "posts:list", { status: "published" }`) with the path
//! checked at compile time, or through a typed reference's args literal (`ListPostsQuery { status: None }`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt as _;
use syn::parse::ParseStream;
use syn::spanned::Spanned as _;
use syn::{Expr, Ident, LitStr, Token, braced};

use crate::errors::Errors;
use crate::grammar::{self, FunctionPath};
use crate::kind::Kind;

enum Function {
    Untyped {
        kind: Kind,
        path: LitStr,
        args: Vec<Entry>,
        /// What makes the crate recompile when the function spec it was checked against changes.
        tracking: TokenStream,
    },
    Typed(Box<syn::ExprStruct>),
}

struct Entry {
    key: String,
    /// Where the key is written, for errors about it.
    key_span: proc_macro2::Span,
    value: Expr,
}

struct Inline {
    function: Function,
    /// The call's options, each a method of `Call`.
    options: Vec<(Ident, Option<Expr>)>,
    /// `crate = "…"`: the runtime crate, for code that re-exports it.
    krate: Option<syn::Path>,
}

const KINDS: &str = "`query`, `mutation` or `action`";
const OPTIONS: &str = "`auth = …`, `admin = …`, `url = …`, `client = …`, `timeout = …`, `verbose`, \
                       `spec = \"…\"` or `crate = \"path\"`";
const FORMS: &str = "expected `query \"module:export\", { … }` (or `mutation`, `action`), or an args literal of \
                     a typed function such as `ListPostsQuery { status: None }`";

pub(crate) fn inline(input: TokenStream) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let parsed = syn::parse::Parser::parse2(
        |input: ParseStream<'_>| Inline::parse(input, &mut errors),
        input,
    );
    let inline = match parsed {
        Ok(inline) => inline,
        // The errors found before the one that stopped the parse are reported too.
        Err(e) => return Err(errors.finish_with(e)),
    };
    errors.finish()?;
    Ok(expand(
        &inline,
        &crate::crate_path::resolve(inline.krate.as_ref()),
    ))
}

impl Inline {
    fn parse(input: ParseStream<'_>, errors: &mut Errors) -> syn::Result<Self> {
        let function = if input.peek(Ident::peek_any) && input.peek2(LitStr) {
            let word = input.call(Ident::parse_any)?;
            let kind = match word.to_string().as_str() {
                "query" => Kind::Query,
                "mutation" => Kind::Mutation,
                "action" => Kind::Action,
                other => {
                    errors.at(
                        &word,
                        format!("unknown function kind `{other}`: expected {KINDS}"),
                    );
                    Kind::Query
                }
            };
            let path: LitStr = input.parse()?;
            if let Err(why) = FunctionPath::parse(&path.value()) {
                errors.at(&path, why);
            }
            let missing_args = || {
                syn::Error::new(
                    path.span(),
                    "missing the args object after the path: write `{}` if the function takes none",
                )
            };
            if input.is_empty() {
                return Err(missing_args());
            }
            input.parse::<Token![,]>()?;
            if !input.peek(syn::token::Brace) {
                return Err(match input.fork().parse::<syn::Expr>() {
                    Ok(syn::Expr::Macro(call)) => syn::Error::new_spanned(
                        call,
                        "write the args object itself, without a macro around it: \
                         `{ status: \"published\" }` (keys may be quoted, as in `json!`)",
                    ),
                    Ok(expr) => syn::Error::new_spanned(
                        expr,
                        "the args of `convex_fetch!` are an object written out, `{ status, limit: 10 }`; \
                         for args built at run time, call `client.query(path, args)` (or `mutation`, `action`)",
                    ),
                    Err(_) => missing_args(),
                });
            }
            let args = parse_entries(input, errors)?;
            Function::Untyped {
                kind,
                path,
                args,
                tracking: TokenStream::new(),
            }
        } else if input.peek(LitStr) {
            return Err(input.error(format!(
                "missing the function kind before the path: {KINDS}"
            )));
        } else {
            match input.parse::<syn::ExprStruct>() {
                Ok(literal) => Function::Typed(Box::new(literal)),
                Err(e) => return Err(syn::Error::new(e.span(), FORMS)),
            }
        };
        let (options, krate, spec) = parse_options(input, errors)?;
        let mut function = function;
        if let Function::Untyped {
            kind,
            path,
            args,
            tracking,
        } = &mut function
        {
            *tracking = check_against_spec(*kind, path, spec.as_ref(), args, errors);
        }
        Ok(Inline {
            function,
            options,
            krate,
        })
    }
}

fn parse_entries(input: ParseStream<'_>, errors: &mut Errors) -> syn::Result<Vec<Entry>> {
    let content;
    braced!(content in input);
    let mut entries: Vec<Entry> = Vec::new();
    while !content.is_empty() {
        let (key, key_span, value) = if content.peek(LitStr) {
            let lit: LitStr = content.parse()?;
            content.parse::<Token![:]>()?;
            (lit.value(), lit.span(), content.parse()?)
        } else {
            let ident = content.call(Ident::parse_any)?;
            let value = if content.peek(Token![:]) {
                content.parse::<Token![:]>()?;
                content.parse()?
            } else {
                // Shorthand `{ limit }`: the variable of that name.
                syn::parse_quote!(#ident)
            };
            (ident.unraw().to_string(), ident.span(), value)
        };
        if let Err(why) = grammar::check_field_name(&key) {
            errors.push(syn::Error::new(key_span, why));
        }
        if entries.iter().any(|e| e.key == key) {
            errors.push(syn::Error::new(
                key_span,
                format!("duplicate field `{key}` in the args object"),
            ));
        }
        entries.push(Entry {
            key,
            key_span,
            value,
        });
        if !content.is_empty() {
            content.parse::<Token![,]>()?;
        }
    }
    Ok(entries)
}

/// Checks an untyped call against the crate's function spec, if it has one (`spec = "…"`, else
/// `CONVEX_FUNCTION_SPEC`): the
/// function exists with this kind, and the args object's keys are its args. The values' types are not known
/// to a macro.
fn check_against_spec(
    kind: Kind,
    path: &LitStr,
    spec: Option<&LitStr>,
    args: &[Entry],
    errors: &mut Errors,
) -> TokenStream {
    if FunctionPath::parse(&path.value()).is_err() {
        return TokenStream::new();
    }
    match crate::spec_check::load(spec, false) {
        Ok(loaded) => {
            if let Some(index) = &loaded.index {
                let keys: Vec<LitStr> = args
                    .iter()
                    .map(|e| LitStr::new(&e.key, e.key_span))
                    .collect();
                let keys: Vec<(String, &dyn quote::ToTokens)> = args
                    .iter()
                    .zip(&keys)
                    .map(|(e, lit)| (e.key.clone(), lit as &dyn quote::ToTokens))
                    .collect();
                crate::spec_check::check_inline(index, kind, path, &keys, errors);
            }
            loaded.tracking
        }
        Err(e) => {
            errors.push(e);
            TokenStream::new()
        }
    }
}

/// The call's options, the runtime's path (`crate = "…"`) and the spec to check against (`spec = "…"`).
type Options = (
    Vec<(Ident, Option<Expr>)>,
    Option<syn::Path>,
    Option<LitStr>,
);

fn parse_options(input: ParseStream<'_>, errors: &mut Errors) -> syn::Result<Options> {
    let mut options: Vec<(Ident, Option<Expr>)> = Vec::new();
    let mut krate: Option<syn::Path> = None;
    let mut spec: Option<LitStr> = None;
    while !input.is_empty() {
        input.parse::<Token![,]>()?;
        if input.is_empty() {
            break;
        }
        if input.peek(Token![crate]) {
            let key: Token![crate] = input.parse()?;
            input.parse::<Token![=]>()?;
            let lit: LitStr = input.parse()?;
            match crate::crate_path::parse(&lit) {
                Ok(_) if krate.is_some() => errors.at(key, "the option `crate` is given twice"),
                Ok(path) => krate = Some(path),
                Err(e) => errors.push(e),
            }
            continue;
        }
        let name = input.call(Ident::parse_any)?;
        if name == "spec" && input.peek(Token![=]) && input.peek2(LitStr) {
            input.parse::<Token![=]>()?;
            spec = Some(input.parse()?);
            continue;
        }
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Some(input.parse::<Expr>()?)
        } else {
            None
        };
        let word = name.to_string();
        let conflict = |other: &str| {
            options
                .iter()
                .find(|(n, _)| n == other)
                .map(|_| other.to_owned())
        };
        match (word.as_str(), &value) {
            ("verbose", None) | ("auth" | "admin" | "url" | "client" | "timeout", Some(_)) => {}
            ("verbose", Some(v)) => errors.at(v, "`verbose` is a flag: write `verbose` alone"),
            ("auth" | "admin" | "url" | "client" | "timeout", None) => {
                errors.at(&name, format!("`{word}` needs a value: `{word} = …`"));
            }
            _ => {
                errors.at(
                    &name,
                    format!("unknown option `{word}`: expected {OPTIONS}"),
                );
                continue;
            }
        }
        if conflict(&word).is_some() {
            errors.at(&name, format!("the option `{word}` is given twice"));
        }
        let exclusive = match word.as_str() {
            "auth" => conflict("admin"),
            "admin" => conflict("auth"),
            "url" => conflict("client"),
            "client" => conflict("url"),
            _ => None,
        };
        if let Some(other) = exclusive {
            errors.at(
                &name,
                format!("`{word}` and `{other}` cannot both be set on one call"),
            );
        }
        options.push((name, value));
    }
    Ok((options, krate, spec))
}

fn expand(inline: &Inline, krate: &TokenStream) -> TokenStream {
    let private = quote!(#krate::__private);
    let options = inline.options.iter().map(|(name, value)| {
        let method = match name.to_string().as_str() {
            "admin" => format_ident!("admin_key", span = name.span()),
            "client" => format_ident!("on", span = name.span()),
            _ => name.clone(),
        };
        match value {
            Some(value) => quote!(.#method(#value)),
            None => quote!(.#method()),
        }
    });
    let function = match &inline.function {
        Function::Typed(literal) => quote!(#private::Call::new(#literal)),
        Function::Untyped {
            kind,
            path,
            args,
            tracking,
        } => {
            let kind = format_ident!(
                "{}",
                match kind {
                    Kind::Query => "Query",
                    Kind::Mutation => "Mutation",
                    Kind::Action => "Action",
                }
            );
            let fields: Vec<_> = (0..args.len()).map(|i| format_ident!("__f{i}")).collect();
            let params: Vec<_> = (0..args.len()).map(|i| format_ident!("__T{i}")).collect();
            let keys = args.iter().map(|e| &e.key);
            let values = args.iter().map(|e| {
                let value = &e.value;
                // Spanned at the value, so that one that is not `Serialize` is reported there.
                quote_spanned!(value.span()=> #private::arg(#value))
            });
            let len = args.len();
            // Called by a name spanned at the path, so that a result left without a type is reported there,
            // by the runtime's message, before the `Call`'s own bound reports it as serde's.
            let check = quote_spanned!(path.span()=> __convex_output_of(&__function));
            quote! {{
                use #private::output_of as __convex_output_of;
                let __function = {
                    struct __ConvexArgs<#(#params),*> { #(#fields: #params),* }
                    #[automatically_derived]
                    impl<#(#params: #private::serde::Serialize),*> #private::serde::Serialize for __ConvexArgs<#(#params),*> {
                        fn serialize<__S: #private::serde::Serializer>(
                            &self,
                            __serializer: __S,
                        ) -> ::core::result::Result<__S::Ok, __S::Error> {
                            use #private::serde::ser::SerializeStruct as _;
                            let mut __s = __serializer.serialize_struct("Args", #len)?;
                            #(__s.serialize_field(#keys, &self.#fields)?;)*
                            __s.end()
                        }
                    }
                    #tracking
                    #private::Untyped::<_, _, #private::kind::#kind>::new(#path, __ConvexArgs { #(#fields: #values),* })
                };
                #check;
                #[allow(unreachable_code)]
                let _ = if false {
                    #private::never_unless_typed(&__function, loop {})
                };
                #private::inferred(__function)
            }}
        }
    };
    quote!(#function #(#options)*)
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn messages(result: syn::Result<TokenStream>) -> Vec<String> {
        result
            .err()
            .unwrap()
            .into_iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn the_errors_before_a_parse_error_are_reported_with_it() {
        let all = messages(inline(quote!(query "posts::list", {}, retry = 3, 42)));
        assert_eq!(all.len(), 3, "{all:?}");
        assert!(all[0].contains("`::` is Rust's separator"), "{all:?}");
        assert!(all[1].contains("unknown option `retry`"), "{all:?}");
    }

    #[test]
    fn crate_names_the_runtime() {
        let out = inline(quote!(query "posts:list", {}, crate = "::sdk::convex", verbose))
            .unwrap()
            .to_string();
        assert!(
            out.starts_with("{ use :: sdk :: convex :: __private :: output_of"),
            "{out}"
        );
        assert!(out.contains("# [automatically_derived]"), "{out}");
        assert!(out.ends_with(". verbose ()"), "{out}");
        let twice = messages(inline(
            quote!(query "a:b", {}, crate = "::x", crate = "::y"),
        ));
        assert_eq!(twice, ["the option `crate` is given twice"]);
        let bad = messages(inline(quote!(query "a:b", {}, crate = "not a path")));
        assert_eq!(bad.len(), 1);
        assert!(
            bad[0].contains("expected a path to the convex-fetch crate"),
            "{bad:?}"
        );
    }
}
