//! A Rust type checked against a validator, where the type is one whose wire form the crate knows. A type of
//! the user's own (a struct, an enum) cannot be seen from a macro and is accepted as it is.

use syn::{GenericArgument, PathArguments, Type};

use crate::api::spec::{Literal, Validator};

/// Which way the value goes: args are encoded by the crate, results decoded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Args,
    Output,
}

/// The wire form of a Rust type, as far as a macro can tell from its name.
enum Form<'a> {
    String,
    Float,
    /// Any integer type: sent as a float64 number.
    Integer,
    Bool,
    Int64,
    Bytes,
    Id,
    Null,
    Any,
    Option(&'a Type),
    Seq(&'a Type),
    Map(&'a Type),
    /// A type of the user's own, or one not known here.
    Other,
}

fn form(ty: &Type) -> Form<'_> {
    match ty {
        Type::Paren(t) => form(&t.elem),
        Type::Group(t) => form(&t.elem),
        Type::Tuple(t) if t.elems.is_empty() => Form::Null,
        Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else {
                return Form::Other;
            };
            let args: Vec<&Type> = match &last.arguments {
                PathArguments::AngleBracketed(a) => a
                    .args
                    .iter()
                    .filter_map(|arg| match arg {
                        GenericArgument::Type(t) => Some(t),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            match (last.ident.to_string().as_str(), args.as_slice()) {
                ("String", []) => Form::String,
                ("f64" | "f32", []) => Form::Float,
                (
                    "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64"
                    | "u128" | "usize",
                    [],
                ) => Form::Integer,
                ("bool", []) => Form::Bool,
                ("Int64", []) => Form::Int64,
                ("Bytes", []) => Form::Bytes,
                ("Id", [_]) => Form::Id,
                ("Value", []) => Form::Any,
                ("Option", [inner]) => Form::Option(inner),
                ("Vec" | "VecDeque", [item]) => Form::Seq(item),
                ("BTreeMap" | "HashMap", [key, value]) if is_string(key) => Form::Map(value),
                ("Box" | "Arc" | "Rc", [inner]) => form(inner),
                _ => Form::Other,
            }
        }
        _ => Form::Other,
    }
}

fn is_string(ty: &Type) -> bool {
    matches!(form(ty), Form::String)
}

/// What to write instead, for a value of validator `v`.
pub(crate) fn suggestion(v: &Validator) -> String {
    match v {
        Validator::String => "`String`".into(),
        Validator::Number => "`f64` (or an integer type)".into(),
        Validator::Int64 => "`convex::value::Int64`".into(),
        Validator::Boolean => "`bool`".into(),
        Validator::Bytes => "`convex::value::Bytes`".into(),
        Validator::Id(table) => {
            format!("`convex::value::Id<…>` for the table `{table}`, or `String`")
        }
        Validator::Null => "`()`".into(),
        Validator::Array(_) => "a `Vec<…>`".into(),
        Validator::Record(_) => "a `BTreeMap<String, …>`".into(),
        Validator::Object(_) => "a struct of your own (deriving serde's traits)".into(),
        Validator::Literal(Literal::String(_)) => "`String` or an enum of your own".into(),
        Validator::Literal(Literal::Number(_)) => "`f64`".into(),
        Validator::Literal(Literal::Boolean(_)) => "`bool`".into(),
        Validator::Literal(Literal::Int64(_)) => "`convex::value::Int64`".into(),
        Validator::Union(_) => "an enum of your own or `convex::value::Value`".into(),
        Validator::Any | Validator::Unknown(_) => "`convex::value::Value`".into(),
    }
}

/// Whether a value of `ty` can stand where `v` is expected, going the `side` way; `Err` holds the part of
/// `ty` that cannot and what that part's validator is.
pub(crate) fn check<'a>(
    ty: &'a Type,
    v: &'a Validator,
    side: Side,
) -> Result<(), (&'a Type, &'a Validator)> {
    let refused = Err((ty, v));
    match v {
        Validator::Any | Validator::Unknown(_) => return Ok(()),
        Validator::Union(members) => {
            // A user's enum may be the union; a known form must fit one member.
            return match form(ty) {
                Form::Other | Form::Any => Ok(()),
                Form::Option(inner) if side == Side::Args => {
                    if !members.iter().any(|m| matches!(m, Validator::Null)) {
                        return refused;
                    }
                    first_fit(inner, members, side).map_or(refused, |()| Ok(()))
                }
                Form::Option(inner) => first_fit(inner, members, side).map_or(refused, |()| Ok(())),
                _ => first_fit(ty, members, side).map_or(refused, |()| Ok(())),
            };
        }
        _ => {}
    }
    let fits = match (form(ty), v) {
        (Form::Other | Form::Any, _) => true,
        // Decoding an `Option` also reads the value itself; encoding `None` sends `null`.
        (Form::Option(inner), _) if side == Side::Output => return check(inner, v, side),
        (Form::Option(_), Validator::Null) => true,
        (Form::Option(_), _) => false,
        (Form::String, Validator::String | Validator::Id(_)) => true,
        (Form::String, Validator::Literal(Literal::String(_))) => true,
        (Form::Id, Validator::Id(_) | Validator::String) => true,
        (Form::Float, Validator::Number | Validator::Literal(Literal::Number(_))) => true,
        (Form::Integer, Validator::Number | Validator::Literal(Literal::Number(_))) => true,
        // A Rust integer is sent as a float64, which `v.int64()` refuses; a result reads either.
        (Form::Integer, Validator::Int64 | Validator::Literal(Literal::Int64(_))) => {
            side == Side::Output
        }
        (Form::Int64, Validator::Int64 | Validator::Literal(Literal::Int64(_))) => true,
        (Form::Bool, Validator::Boolean | Validator::Literal(Literal::Boolean(_))) => true,
        (Form::Bytes, Validator::Bytes) => true,
        (Form::Null, Validator::Null) => true,
        (Form::Seq(item), Validator::Array(items)) => return check(item, items, side),
        (Form::Map(value), Validator::Record(values)) => return check(value, values, side),
        (Form::Map(_), Validator::Object(_)) => true,
        _ => false,
    };
    if fits { Ok(()) } else { refused }
}

/// `Ok` when `ty` fits one of `members`.
fn first_fit(ty: &Type, members: &[Validator], side: Side) -> Option<()> {
    members
        .iter()
        .any(|member| check(ty, member, side).is_ok())
        .then_some(())
}

/// Whether `v` accepts `null`.
pub(crate) fn allows_null(v: &Validator) -> bool {
    match v {
        Validator::Null | Validator::Any | Validator::Unknown(_) => true,
        Validator::Union(members) => members.iter().any(allows_null),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn fits(ty: Type, v: &Validator, side: Side) -> bool {
        check(&ty, v, side).is_ok()
    }

    #[test]
    fn known_forms_against_validators() {
        use Validator::*;
        assert!(fits(parse_quote!(String), &String, Side::Args));
        assert!(!fits(parse_quote!(String), &Number, Side::Args));
        assert!(fits(parse_quote!(u32), &Number, Side::Args));
        assert!(!fits(parse_quote!(i64), &Int64, Side::Args));
        assert!(fits(parse_quote!(i64), &Int64, Side::Output));
        assert!(fits(parse_quote!(convex::value::Int64), &Int64, Side::Args));
        assert!(fits(
            parse_quote!(Vec<String>),
            &Array(Box::new(String)),
            Side::Args
        ));
        assert!(!fits(
            parse_quote!(Vec<bool>),
            &Array(Box::new(String)),
            Side::Args
        ));
        assert!(fits(parse_quote!(MyOwn), &Number, Side::Args));
        assert!(fits(
            parse_quote!(Id<Posts>),
            &Id("posts".into()),
            Side::Args
        ));
        assert!(!fits(parse_quote!(Id<Posts>), &Number, Side::Args));
        let nullable = Union(vec![String, Null]);
        assert!(fits(
            parse_quote!(Vec<Option<String>>),
            &Array(Box::new(nullable.clone())),
            Side::Args
        ));
        assert!(!fits(
            parse_quote!(Vec<Option<String>>),
            &Array(Box::new(String)),
            Side::Args
        ));
        assert!(fits(parse_quote!(Option<String>), &String, Side::Output));
        assert!(fits(
            parse_quote!(BTreeMap<String, f64>),
            &Record(Box::new(Number)),
            Side::Args
        ));
        assert!(fits(parse_quote!(()), &Null, Side::Output));
        assert!(!fits(parse_quote!(()), &String, Side::Output));
    }
}
