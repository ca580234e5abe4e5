//! Stubs and `convex_fetch!` calls checked against the deployment's function spec, when the crate has one
//! (see [`load`]): the function exists and is of the declared kind, the args are the validator's, and the
//! types the crate knows match it. Every error is at the user's token, shows the spec's validator and says
//! what to write.

mod load;
mod render;
mod types;

pub(crate) use load::load;

use syn::{Ident, LitStr, ReturnType, Type};

use crate::api::spec::{Field, Function, Validator};
use crate::errors::Errors;
use crate::grammar::FunctionPath;
use crate::kind::Kind;
use load::Index;
use types::Side;

/// A parameter of a stub as the check sees it.
pub(crate) struct Arg<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) wire: &'a str,
    /// The type without its top-level `Option`.
    pub(crate) ty: &'a Type,
    /// Written as `Option<…>`: left out of the args when `None`.
    pub(crate) optional: bool,
}

/// The function `path` names, if it exists and is of `kind`; otherwise an error at `path`.
fn function<'a>(
    index: &'a Index,
    kind: Kind,
    path: &LitStr,
    errors: &mut Errors,
) -> Option<&'a Function> {
    let canonical = FunctionPath::parse(&path.value()).ok()?.canonical();
    let Some(function) = index.functions.get(&canonical) else {
        let close = render::closest(&canonical, index.functions.keys().map(String::as_str));
        let hint = if close.is_empty() {
            "deploy it, print the spec again, or add `unchecked` to the attribute while it is not deployed"
                .to_owned()
        } else {
            format!("did you mean {}?", render::one_of(&close))
        };
        errors.at(
            path,
            format!("the function spec has no function `{canonical}`: {hint}"),
        );
        return None;
    };
    if function.kind != kind {
        let (is, declared) = (function.kind.word(), kind.word());
        errors.at(
            path,
            format!(
                "`{canonical}` is a {is} in the function spec, not a {declared}: declare it with \
                 `#[convex::{is}(\"{canonical}\")]` (or `{is} \"{canonical}\"` in `convex_fetch!`)"
            ),
        );
        return None;
    }
    Some(function)
}

/// Checks a stub; returns whether the function is internal (reached only with the admin key), for its docs.
pub(crate) fn check_stub(
    index: &Index,
    kind: Kind,
    path: &LitStr,
    fn_ident: &Ident,
    args: &[Arg<'_>],
    output: &ReturnType,
    errors: &mut Errors,
) -> bool {
    let Some(function) = function(index, kind, path, errors) else {
        return false;
    };
    let canonical = &function.path;
    if let Some(fields) = &function.args {
        check_names(
            canonical,
            fields,
            args.iter()
                .map(|a| (a.wire, a.ident as &dyn quote::ToTokens)),
            fn_ident,
            errors,
        );
        for arg in args {
            let Some(field) = fields.iter().find(|f| f.name == arg.wire) else {
                continue;
            };
            let shown = || render::validator(&field.ty, field.optional);
            if arg.optional && !field.optional {
                let instead = if types::allows_null(&field.ty) {
                    "take the value itself, or `convex::value::Value` to send `null`"
                } else {
                    "take the value itself"
                };
                errors.at(
                    arg.ident,
                    format!(
                        "`{}` is required by `{canonical}` (`{}`), but an `Option` parameter is left out of \
                         the args when `None`, which the function refuses: {instead}",
                        arg.wire,
                        shown()
                    ),
                );
                continue;
            }
            if let Err((part, expected)) = types::check(arg.ty, &field.ty, Side::Args) {
                errors.at(
                    part,
                    mismatch(
                        canonical,
                        &format!("the arg `{}`", arg.wire),
                        &shown(),
                        part,
                        expected,
                    ),
                );
            }
        }
    }
    if let Some(returns) = &function.returns {
        let unit: Type = syn::parse_quote!(());
        let (ty, at): (&Type, &dyn quote::ToTokens) = match output {
            ReturnType::Type(_, ty) => (ty, ty),
            ReturnType::Default => (&unit, fn_ident),
        };
        if let Err((part, expected)) = types::check(ty, returns, Side::Output) {
            let shown = render::validator(returns, false);
            let part_at: &dyn quote::ToTokens = if std::ptr::eq(part, &unit) { at } else { part };
            errors.at(
                part_at,
                mismatch(canonical, "the result", &shown, part, expected),
            );
        }
    }
    function.internal
}

/// Checks the keys of a `convex_fetch!` call's args object.
pub(crate) fn check_inline(
    index: &Index,
    kind: Kind,
    path: &LitStr,
    keys: &[(String, &dyn quote::ToTokens)],
    errors: &mut Errors,
) {
    let Some(function) = function(index, kind, path, errors) else {
        return;
    };
    if let Some(fields) = &function.args {
        check_names(
            &function.path,
            fields,
            keys.iter().map(|(key, at)| (key.as_str(), *at)),
            path,
            errors,
        );
    }
}

/// Every required field has an arg, and every arg is a field.
fn check_names<'a>(
    canonical: &str,
    fields: &[Field],
    args: impl Iterator<Item = (&'a str, &'a dyn quote::ToTokens)> + Clone,
    missing_at: &dyn quote::ToTokens,
    errors: &mut Errors,
) {
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    for (wire, at) in args.clone() {
        if names.contains(&wire) {
            continue;
        }
        let close = render::closest(wire, names.iter().copied());
        let hint = match (close.is_empty(), names.is_empty()) {
            (_, true) => format!("`{canonical}` takes no args"),
            (true, false) => format!("its args are {}", render::one_of(&names)),
            (false, false) => format!("did you mean {}?", render::one_of(&close)),
        };
        errors.at(
            at,
            format!("`{canonical}` has no arg `{wire}` in the function spec: {hint}"),
        );
    }
    let missing: Vec<String> = fields
        .iter()
        .filter(|f| !f.optional && !args.clone().any(|(wire, _)| wire == f.name))
        .map(|f| format!("`{}: {}`", f.name, render::validator(&f.ty, false)))
        .collect();
    if !missing.is_empty() {
        let plural = if missing.len() == 1 { "" } else { "s" };
        errors.at(
            missing_at,
            format!(
                "`{canonical}` requires the arg{plural} {} (function spec): add {}",
                missing.join(", "),
                if missing.len() == 1 { "it" } else { "them" }
            ),
        );
    }
}

fn mismatch(canonical: &str, what: &str, shown: &str, part: &Type, expected: &Validator) -> String {
    let part = quote::quote!(#part).to_string().replace(' ', "");
    let part = part.replace(",", ", ");
    format!(
        "{what} of `{canonical}` is `{shown}` in the function spec, which `{part}` does not match: use {}",
        types::suggestion(expected)
    )
}
