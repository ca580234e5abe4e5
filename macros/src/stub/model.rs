//! The stub validated into what the expansion needs; every problem is recorded at its own span.

use proc_macro2::Span;
use syn::ext::IdentExt as _;
use syn::{Attribute, FnArg, Ident, LitStr, Pat, ReturnType, Signature, Type, Visibility};

use super::attr::StubAttr;
use crate::case::{RenameRule, type_name};
use crate::errors::Errors;
use crate::grammar::{self, FunctionPath};
use crate::kind::Kind;
use crate::spec_check;

/// A bodyless `async fn` as the user wrote it.
pub(crate) struct StubFn {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) sig: Signature,
    pub(crate) body: Option<syn::Block>,
}

impl syn::parse::Parse for StubFn {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig = input.parse()?;
        let body = if input.peek(syn::token::Brace) {
            Some(input.parse()?)
        } else {
            input.parse::<syn::Token![;]>()?;
            None
        };
        Ok(StubFn {
            attrs,
            vis,
            sig,
            body,
        })
    }
}

pub(crate) struct Param {
    /// The Rust name: the parameter of the function and the field of the args struct.
    pub(crate) ident: Ident,
    /// The field name on the wire.
    pub(crate) wire: String,
    pub(crate) ty: Type,
    /// Written as `Option<…>`: omitted from the args object when `None`, as Convex's `v.optional` expects.
    pub(crate) optional: bool,
}

pub(crate) struct Stub {
    pub(crate) kind: Kind,
    pub(crate) path: LitStr,
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) ident: Ident,
    pub(crate) args_ident: Ident,
    /// Traits the user asked to derive on the args struct.
    pub(crate) derives: Vec<syn::Path>,
    pub(crate) params: Vec<Param>,
    /// `None` for `-> ()` or no return type: the function returns null.
    pub(crate) output: Option<Type>,
    /// Set only beside errors: the function's signature as the user wrote it.
    pub(crate) fallback: Option<Fallback>,
    /// What makes the crate recompile when the function spec it was checked against changes: items for a
    /// function body, the one place a stub's expansion may put them wherever the stub stands.
    pub(crate) tracking: proc_macro2::TokenStream,
}

/// What a stub with errors still expands to, beside the errors: the function with the user's parameters and
/// generics, so that its uses still resolve and type-check instead of adding errors of their own.
pub(crate) struct Fallback {
    pub(crate) generics: syn::Generics,
    /// Every parameter in the user's order, without its attributes.
    pub(crate) inputs: Vec<FallbackInput>,
}

pub(crate) enum FallbackInput {
    /// `params[i]`, a field of the args struct.
    Sent(usize),
    /// A parameter that cannot be a field (a pattern, a borrowed type, `impl Trait`, a generic one): only in
    /// the signature.
    Unsent(Box<syn::PatType>),
}

/// A validated stub; `errors` is `Err` with every problem found, and then `stub`, where there is one, is the
/// best-effort expansion to emit beside them.
pub(crate) struct Validated {
    pub(crate) stub: Option<Stub>,
    pub(crate) krate: Option<syn::Path>,
    pub(crate) errors: syn::Result<()>,
}

impl Stub {
    pub(crate) fn validate(kind: Kind, attr: StubAttr, item: StubFn) -> Validated {
        let StubAttr {
            path,
            rename_all,
            name,
            derives,
            krate,
            spec,
            unchecked,
            mut errors,
            complete,
        } = attr;
        let sig = &item.sig;
        let word = kind.word();
        // `#[convex(…)]` above the function: the stub's options, written where parameters take theirs.
        let (misplaced, attrs): (Vec<_>, Vec<_>) = item
            .attrs
            .iter()
            .cloned()
            .partition(|a| a.path().is_ident("convex"));
        for attr in &misplaced {
            errors.at(
                attr,
                format!(
                    "a stub's options go in its attribute: `#[convex::{word}(\"module:export\", rename_all = \"…\")]`; \
                     `#[convex(rename = \"…\")]` is for a parameter"
                ),
            );
        }
        if let Some(body) = &item.body {
            errors.at(body, format!(
                "a Convex {word} stub has no body: end the declaration with `;` and the macro writes the call"
            ));
        }
        if sig.asyncness.is_none() {
            errors.at(
                sig.fn_token,
                format!("a Convex {word} stub must be `async fn`: the call goes over the network"),
            );
        }
        if let Some(constness) = &sig.constness {
            errors.at(constness, "a Convex stub cannot be `const`");
        }
        if let Some(unsafety) = &sig.unsafety {
            errors.at(unsafety, "a Convex stub cannot be `unsafe`");
        }
        if let Some(abi) = &sig.abi {
            errors.at(abi, "a Convex stub cannot have an `extern` ABI");
        }
        if let Some(variadic) = &sig.variadic {
            errors.at(variadic, "a Convex stub cannot be variadic");
        }
        let generic = !sig.generics.params.is_empty() || sig.generics.where_clause.is_some();
        if generic {
            errors.at(&sig.generics, format!(
                "a Convex {word} stub cannot be generic or take lifetimes: its args and result are concrete types"
            ));
        }
        let (mut params, mut inputs, receiver) = params(sig, rename_all, &mut errors);
        let mut output = output(&sig.output, &mut errors);
        let path = match path {
            Some(path) => path,
            // The parse stopped early: the path may have been in what it did not read.
            None if !complete => LitStr::new("", Span::call_site()),
            None => {
                errors.push(syn::Error::new(
                    Span::call_site(),
                    format!("missing the function path: write `#[{word}(\"module:export\")]`"),
                ));
                LitStr::new("", Span::call_site())
            }
        };
        let mut attrs = attrs;
        let tracking = if unchecked || path.value().is_empty() {
            proc_macro2::TokenStream::new()
        } else {
            check_against_spec(
                kind,
                &path,
                spec.as_ref(),
                sig,
                &params,
                &mut attrs,
                &mut errors,
            )
        };
        let errors = errors.finish();
        // The kind as a suffix keeps the name off the user's own types (`fn post` beside `struct Post`).
        let args_ident = name.unwrap_or_else(|| {
            let base = type_name(&sig.ident.unraw().to_string());
            Ident::new(&format!("{base}{}", kind.suffix()), sig.ident.span())
        });
        let fallback = match &errors {
            Ok(()) => None,
            // A method stands in an `impl` block, where the struct and its impls cannot: nothing to add.
            Err(_) if receiver => {
                return Validated {
                    stub: None,
                    krate,
                    errors,
                };
            }
            Err(_) => {
                if generic {
                    // The fields and the result would name the generics outside the function.
                    for input in &mut inputs {
                        if let FallbackInput::Sent(i) = *input {
                            *input = FallbackInput::Unsent(Box::new(params[i].as_pat_type()));
                        }
                    }
                    params.clear();
                    output = None;
                }
                Some(Fallback {
                    generics: sig.generics.clone(),
                    inputs,
                })
            }
        };
        let stub = Stub {
            kind,
            path,
            attrs,
            vis: item.vis,
            ident: item.sig.ident,
            args_ident,
            derives,
            params,
            output,
            fallback,
            tracking,
        };
        Validated {
            stub: Some(stub),
            krate,
            errors,
        }
    }
}

/// Checks the stub against the crate's function spec, if it has one; notes in the docs that an internal
/// function needs the admin key. Returns the spec's tracking tokens.
fn check_against_spec(
    kind: Kind,
    path: &LitStr,
    spec: Option<&LitStr>,
    sig: &Signature,
    params: &[Param],
    attrs: &mut Vec<Attribute>,
    errors: &mut Errors,
) -> proc_macro2::TokenStream {
    if FunctionPath::parse(&path.value()).is_err() {
        return proc_macro2::TokenStream::new();
    }
    let conditional = attrs.iter().any(|a| a.path().is_ident("cfg"));
    let loaded = match spec_check::load(spec, conditional) {
        Ok(loaded) => loaded,
        Err(e) => {
            errors.push(e);
            return proc_macro2::TokenStream::new();
        }
    };
    if let Some(index) = &loaded.index {
        let args: Vec<spec_check::Arg<'_>> = params
            .iter()
            .map(|p| spec_check::Arg {
                ident: &p.ident,
                wire: &p.wire,
                ty: option_inner(&p.ty).unwrap_or(&p.ty),
                optional: p.optional,
            })
            .collect();
        let internal =
            spec_check::check_stub(index, kind, path, &sig.ident, &args, &sig.output, errors);
        if internal {
            attrs.push(syn::parse_quote!(#[doc = "\n\nInternal in the function spec: it answers only calls made with the admin key (`.admin_key(…)`)."]));
        }
    }
    loaded.tracking
}

impl Param {
    /// `ident: ty`, as a parameter of the function.
    fn as_pat_type(&self) -> syn::PatType {
        let (ident, ty) = (&self.ident, &self.ty);
        syn::parse_quote!(#ident: #ty)
    }
}

/// The parameters that become fields; every parameter in order, for a fallback; whether there is a receiver.
fn params(
    sig: &Signature,
    rule: RenameRule,
    errors: &mut Errors,
) -> (Vec<Param>, Vec<FallbackInput>, bool) {
    let mut params: Vec<Param> = Vec::new();
    let mut inputs = Vec::new();
    let mut receiver = false;
    for input in &sig.inputs {
        let typed = match input {
            FnArg::Receiver(r) => {
                errors.at(r, "a Convex stub is a free function: remove `self`");
                receiver = true;
                continue;
            }
            FnArg::Typed(typed) => typed,
        };
        let unsent = || {
            FallbackInput::Unsent(Box::new(syn::PatType {
                attrs: Vec::new(),
                ..typed.clone()
            }))
        };
        let rename = param_rename(&typed.attrs, errors);
        let ident = match &*typed.pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.mutability.is_none() && p.subpat.is_none() => {
                p.ident.clone()
            }
            pat => {
                errors.at(
                    pat,
                    "a stub parameter must be a plain name: it becomes a field of the args object",
                );
                inputs.push(unsent());
                continue;
            }
        };
        let ty = (*typed.ty).clone();
        if let Some(r) = first_reference(&ty) {
            errors.at(r, OWNED);
            inputs.push(unsent());
            continue;
        }
        if let Type::ImplTrait(t) = &ty {
            errors.at(
                t,
                "a stub parameter needs a concrete type, not `impl Trait`",
            );
            inputs.push(unsent());
            continue;
        }
        // A derived name is checked too: a Rust identifier may hold letters that are not ASCII.
        let wire = match &rename {
            Some(lit) => lit.value(),
            None => rule.apply(&ident.unraw().to_string()),
        };
        if let Err(why) = grammar::check_field_name(&wire) {
            match &rename {
                Some(lit) => errors.at(lit, why),
                None => errors.at(&ident, why),
            }
        }
        if params.iter().any(|p| p.wire == wire) {
            errors.at(
                &ident,
                format!("two parameters are sent as the field `{wire}`"),
            );
        }
        let optional = is_option(&ty);
        inputs.push(FallbackInput::Sent(params.len()));
        params.push(Param {
            ident,
            wire,
            ty,
            optional,
        });
    }
    (params, inputs, receiver)
}

/// Why a borrowed parameter type is refused, at the reference, wherever it is nested.
const OWNED: &str = "a stub parameter must be an owned type, also inside `Option`, `Vec` or a tuple \
    (`String`, not `&str` or `&'static str`; `Vec<String>`, not `Vec<&str>`): the call owns its args, so that it \
    can be spawned or kept";

/// The first reference in `ty`, at any depth (`&str`, `Option<&str>`, `Vec<(u8, &[u8])>`).
fn first_reference(ty: &Type) -> Option<&syn::TypeReference> {
    match ty {
        Type::Reference(r) => Some(r),
        Type::Paren(t) => first_reference(&t.elem),
        Type::Group(t) => first_reference(&t.elem),
        Type::Array(t) => first_reference(&t.elem),
        Type::Slice(t) => first_reference(&t.elem),
        Type::Ptr(t) => first_reference(&t.elem),
        Type::Tuple(t) => t.elems.iter().find_map(first_reference),
        Type::Path(t) => {
            let qself = t.qself.as_ref().and_then(|q| first_reference(&q.ty));
            qself.or_else(|| {
                t.path
                    .segments
                    .iter()
                    .find_map(|segment| match &segment.arguments {
                        syn::PathArguments::AngleBracketed(args) => {
                            args.args.iter().find_map(|arg| match arg {
                                syn::GenericArgument::Type(ty) => first_reference(ty),
                                _ => None,
                            })
                        }
                        _ => None,
                    })
            })
        }
        _ => None,
    }
}

/// `#[convex(rename = "…")]` on a parameter; any other attribute there is an error.
fn param_rename(attrs: &[Attribute], errors: &mut Errors) -> Option<LitStr> {
    let mut rename = None;
    for attr in attrs {
        if !attr.path().is_ident("convex") {
            errors.at(
                attr,
                "only `#[convex(rename = \"…\")]` is allowed on a stub parameter",
            );
            continue;
        }
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                rename = Some(meta.value()?.parse::<LitStr>()?);
                Ok(())
            } else {
                Err(meta.error("unknown parameter option: expected `rename = \"fieldName\"`"))
            }
        });
        if let Err(e) = parsed {
            errors.push(e);
        }
    }
    rename
}

fn output(ret: &ReturnType, errors: &mut Errors) -> Option<Type> {
    let ReturnType::Type(_, ty) = ret else {
        return None;
    };
    match &**ty {
        Type::Tuple(t) if t.elems.is_empty() => None,
        Type::Reference(r) => {
            errors.at(r, "a stub returns an owned type (`String`, not `&str`): the result is decoded from the response");
            None
        }
        Type::ImplTrait(t) => {
            errors.at(
                t,
                "a stub returns a concrete type that implements `Deserialize`, not `impl Trait`",
            );
            None
        }
        Type::Path(p)
            if p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "Result") =>
        {
            errors.at(
                ty,
                "write the success type only: the call already returns `Result<T, convex::Error>`",
            );
            // Beside the error, the success type keeps the uses of the call type-checking.
            match &p.path.segments.last()?.arguments {
                syn::PathArguments::AngleBracketed(args) => match args.args.first()? {
                    syn::GenericArgument::Type(ok) => Some(ok.clone()),
                    _ => None,
                },
                _ => None,
            }
        }
        _ => Some((**ty).clone()),
    }
}

/// `Option<T>` as written (`Option`, `std::option::Option`, `core::option::Option`).
fn is_option(ty: &Type) -> bool {
    let Type::Path(p) = ty else { return false };
    p.qself.is_none()
        && p.path.segments.last().is_some_and(|s| {
            s.ident == "Option" && matches!(s.arguments, syn::PathArguments::AngleBracketed(_))
        })
}

/// `T` of an `Option<T>` as written.
fn option_inner(ty: &Type) -> Option<&Type> {
    if !is_option(ty) {
        return None;
    }
    let Type::Path(p) = ty else { return None };
    match &p.path.segments.last()?.arguments {
        syn::PathArguments::AngleBracketed(args) => match args.args.first()? {
            syn::GenericArgument::Type(inner) => Some(inner),
            _ => None,
        },
        _ => None,
    }
}
