//! The function spec (`npx convex function-spec`) read into a model; every error names the JSON path.

use serde_json::{Map, Value};

use crate::grammar::FunctionPath;
use crate::kind::Kind;

pub(crate) struct Spec {
    pub(crate) functions: Vec<Function>,
    pub(crate) routes: Vec<Route>,
}

pub(crate) struct Function {
    /// Module path segments: `admin/users.js:remove` → `["admin", "users"]`.
    pub(crate) modules: Vec<String>,
    pub(crate) export: String,
    /// The call path, in canonical form: `admin/users:remove`.
    pub(crate) path: String,
    pub(crate) kind: Kind,
    pub(crate) internal: bool,
    /// `None`: no args validator (`any`).
    pub(crate) args: Option<Vec<Field>>,
    /// `None`: no returns validator (`null`, `any` or absent), and none inferred.
    pub(crate) returns: Option<Validator>,
    /// `returns` is not declared but inferred from the app's TypeScript (`inferredReturns`, printed by the
    /// spec printer of `convex-fetch-testing`): nothing on the deployment checks it.
    pub(crate) inferred: bool,
}

pub(crate) struct Route {
    pub(crate) method: String,
    pub(crate) path: String,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Field {
    pub(crate) name: String,
    pub(crate) optional: bool,
    pub(crate) ty: Validator,
}

/// A literal's value; a float64 is kept as its bits, so that -0 and NaN compare exactly.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    String(String),
    Number(u64),
    Boolean(bool),
    Int64(i64),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Validator {
    Null,
    Number,
    Int64,
    Boolean,
    String,
    Bytes,
    Any,
    Literal(Literal),
    Id(String),
    Array(Box<Validator>),
    Record(Box<Validator>),
    Object(Vec<Field>),
    Union(Vec<Validator>),
    /// A validator type this version does not know: read as `any`, its tag kept for the docs.
    Unknown(String),
}

/// The doc sentence of a function whose result type was inferred rather than declared.
pub(crate) const INFERRED_DOC: &str = " Its result type is inferred from the app's TypeScript (it declares no \
     returns validator), so the deployment does not check it: a result of another shape fails to decode.";

type Result<T> = std::result::Result<T, String>;

fn err<T>(at: &str, what: impl std::fmt::Display) -> Result<T> {
    Err(format!("at `{at}`: {what}"))
}

fn object<'a>(v: &'a Value, at: &str) -> Result<&'a Map<String, Value>> {
    v.as_object()
        .map_or_else(|| err(at, "expected an object"), Ok)
}

fn string<'a>(obj: &'a Map<String, Value>, key: &str, at: &str) -> Result<&'a str> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => err(&format!("{at}.{key}"), "expected a string"),
        None => err(at, format_args!("missing `{key}`")),
    }
}

/// Reads a spec in any of the forms the Convex tools print: `{"url", "functions": [...]}` (`npx convex
/// function-spec`), the bare `[...]` array (older CLIs, `npx convex run _system/cli/modules:apiSpec`), or either
/// inside the `{"status": "success", "value": ...}` wrapper of a function's result.
pub(crate) fn parse(json: &str) -> Result<Spec> {
    let root: Value = serde_json::from_str(json).map_err(|e| format!("not valid JSON: {e}"))?;
    let (entries, at) = entries(&root)?;
    let mut spec = Spec {
        functions: Vec::new(),
        routes: Vec::new(),
    };
    for (i, entry) in entries.iter().enumerate() {
        let at = format!("{at}[{i}]");
        let obj = object(entry, &at)?;
        let kind = match string(obj, "functionType", &at)? {
            "Query" => Kind::Query,
            "Mutation" => Kind::Mutation,
            "Action" => Kind::Action,
            "HttpAction" => {
                let method = string(obj, "method", &at)?;
                if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
                    return err(
                        &format!("{at}.method"),
                        format_args!("`{method}` is not an HTTP method"),
                    );
                }
                spec.routes.push(Route {
                    method: method.to_owned(),
                    path: string(obj, "path", &at)?.to_owned(),
                });
                continue;
            }
            other => {
                return err(
                    &format!("{at}.functionType"),
                    format_args!("unknown function type `{other}`"),
                );
            }
        };
        spec.functions.push(function(obj, kind, &at)?);
    }
    Ok(spec)
}

/// The array of entries, and its JSON path.
fn entries(root: &Value) -> Result<(&Vec<Value>, &'static str)> {
    const EXPECTED: &str = "expected `functions`, an array (the output of `npx convex function-spec`), or the array itself";
    match root {
        Value::Array(entries) => Ok((entries, "$")),
        Value::Object(obj) => match (obj.get("functions"), obj.get("value")) {
            (Some(Value::Array(entries)), _) => Ok((entries, "$.functions")),
            (None, Some(Value::Array(entries))) if obj.contains_key("status") => {
                Ok((entries, "$.value"))
            }
            (None, Some(Value::Object(value))) if obj.contains_key("status") => {
                match value.get("functions") {
                    Some(Value::Array(entries)) => Ok((entries, "$.value.functions")),
                    _ => err("$.value", EXPECTED),
                }
            }
            _ => err("$", EXPECTED),
        },
        _ => err("$", "expected an object or an array"),
    }
}

/// `posts.ts:list` (a source file's name, which some tools print) is read as `posts.js:list`.
pub(crate) fn as_js(identifier: &str) -> std::borrow::Cow<'_, str> {
    let (module, export) = identifier
        .rsplit_once(':')
        .map_or((identifier, None), |(m, e)| (m, Some(e)));
    for ext in [".ts", ".tsx", ".jsx", ".mjs", ".cjs", ".mts", ".cts"] {
        if let Some(stem) = module.strip_suffix(ext) {
            return match export {
                Some(export) => format!("{stem}.js:{export}").into(),
                None => format!("{stem}.js").into(),
            };
        }
    }
    identifier.into()
}

/// The path of a spec's identifier. An export the path grammar refuses but JavaScript allows (`_`) is kept: the
/// deployment holds it, so it can be called.
fn function_path(identifier: &str) -> std::result::Result<(String, String), String> {
    let identifier = as_js(identifier);
    let parts = |p: FunctionPath| (p.module().to_owned(), p.export().to_owned());
    FunctionPath::parse(&identifier).map(parts).or_else(|why| {
        let lenient = identifier.rsplit_once(':').and_then(|(module, export)| {
            let js = !export.is_empty()
                && export
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
                && !export.starts_with(|c: char| c.is_ascii_digit());
            let module = FunctionPath::parse(&format!("{module}:x")).ok()?;
            js.then(|| (module.module().to_owned(), export.to_owned()))
        });
        lenient.ok_or_else(|| why.to_string())
    })
}

fn function(obj: &Map<String, Value>, kind: Kind, at: &str) -> Result<Function> {
    let identifier = string(obj, "identifier", at)?;
    let (module, export) = function_path(identifier).or_else(|why| {
        err(
            &format!("{at}.identifier"),
            format_args!("`{identifier}` is not a function path: {why}"),
        )
    })?;
    let internal = match obj.get("visibility") {
        None => false,
        Some(v) => match string(
            object(v, &format!("{at}.visibility"))?,
            "kind",
            &format!("{at}.visibility"),
        )? {
            "public" => false,
            "internal" => true,
            other => {
                return err(
                    &format!("{at}.visibility.kind"),
                    format_args!("unknown visibility `{other}`"),
                );
            }
        },
    };
    let args_at = format!("{at}.args");
    let args = match obj.get("args") {
        None => None,
        Some(v) => match validator(v, &args_at)? {
            Validator::Any => None,
            Validator::Object(fields) => Some(fields),
            _ => return err(&args_at, "the args validator must be an object or `any`"),
        },
    };
    let read = |key: &str| -> Result<Option<Validator>> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match validator(v, &format!("{at}.{key}"))? {
                Validator::Any => Ok(None),
                other => Ok(Some(other)),
            },
        }
    };
    // A declared validator wins; an inferred one is read only where none is declared.
    let declared = read("returns")?;
    let inferred = match declared {
        Some(_) => None,
        None => read("inferredReturns")?,
    };
    let is_inferred = inferred.is_some();
    let returns = declared.or(inferred);
    Ok(Function {
        modules: module.split('/').map(str::to_owned).collect(),
        path: format!("{module}:{export}"),
        export,
        kind,
        internal,
        args,
        returns,
        inferred: is_inferred,
    })
}

fn validator(v: &Value, at: &str) -> Result<Validator> {
    let obj = object(v, at)?;
    let tag = string(obj, "type", at)?;
    let inner = |key: &str| -> Result<&Value> {
        obj.get(key)
            .map_or_else(|| err(at, format_args!("`{tag}` needs `{key}`")), Ok)
    };
    Ok(match tag {
        "null" => Validator::Null,
        "number" => Validator::Number,
        "bigint" | "int64" | "commitTs" => Validator::Int64,
        "boolean" => Validator::Boolean,
        "string" => Validator::String,
        "bytes" => Validator::Bytes,
        // The obsolete `map` and `set` are read as `any`, as protocol.md allows.
        "any" | "map" | "set" => Validator::Any,
        "literal" => Validator::Literal(literal(inner("value")?, &format!("{at}.value"))?),
        // Any table name the backend stored is one; the marker type is made from it.
        "id" => Validator::Id(string(obj, "tableName", at)?.to_owned()),
        "array" => Validator::Array(Box::new(validator(
            inner("value")?,
            &format!("{at}.value"),
        )?)),
        "record" => {
            let values_at = format!("{at}.values");
            let values = object(inner("values")?, &values_at)?;
            let field_type = values
                .get("fieldType")
                .map_or_else(|| err(&values_at, "missing `fieldType`"), Ok)?;
            Validator::Record(Box::new(validator(
                field_type,
                &format!("{values_at}.fieldType"),
            )?))
        }
        "object" => {
            let value_at = format!("{at}.value");
            let mut fields = Vec::new();
            for (name, field) in object(inner("value")?, &value_at)? {
                // Any name is kept on the wire; the Rust name is made from it.
                let field_at = format!("{value_at}.{name}");
                let field_obj = object(field, &field_at)?;
                let optional = match field_obj.get("optional") {
                    None => false,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => return err(&format!("{field_at}.optional"), "expected a boolean"),
                };
                let ty = field_obj
                    .get("fieldType")
                    .map_or_else(|| err(&field_at, "missing `fieldType`"), Ok)?;
                let ty = validator(ty, &format!("{field_at}.fieldType"))?;
                fields.push(Field {
                    name: name.clone(),
                    optional,
                    ty,
                });
            }
            Validator::Object(fields)
        }
        "union" => {
            let Value::Array(members) = inner("value")? else {
                return err(&format!("{at}.value"), "expected an array of validators");
            };
            let members = members
                .iter()
                .enumerate()
                .map(|(i, m)| validator(m, &format!("{at}.value[{i}]")))
                .collect::<Result<Vec<_>>>()?;
            if members.is_empty() {
                return err(&format!("{at}.value"), "a union needs at least one member");
            }
            Validator::Union(members)
        }
        // A newer backend's type: the field still compiles, as a `value::Value`.
        other => Validator::Unknown(other.to_owned()),
    })
}

fn literal(v: &Value, at: &str) -> Result<Literal> {
    Ok(match v {
        Value::String(s) => Literal::String(s.clone()),
        Value::Bool(b) => Literal::Boolean(*b),
        Value::Number(n) => match n.as_f64() {
            Some(f) => Literal::Number(f.to_bits()),
            None => return err(at, "a number literal must be a float64"),
        },
        Value::Object(o) if o.len() == 1 => {
            let (key, text) = o
                .iter()
                .next()
                .map_or(("", None), |(k, v)| (k.as_str(), v.as_str()));
            let bytes = text.and_then(base64_eight).map_or_else(
                || err(at, format_args!("`{key}` must hold 8 bytes in base64")),
                Ok,
            )?;
            match key {
                "$integer" => Literal::Int64(i64::from_le_bytes(bytes)),
                "$float" => Literal::Number(u64::from_le_bytes(bytes)),
                _ => return err(at, format_args!("unsupported literal `{key}`")),
            }
        }
        _ => return err(at, "unsupported literal"),
    })
}

/// Decodes the standard base64 of exactly eight bytes (`$integer`, `$float`).
fn base64_eight(text: &str) -> Option<[u8; 8]> {
    let digit = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let text = text.as_bytes();
    if text.len() != 12 || &text[11..] != b"=" {
        return None;
    }
    let mut out = Vec::with_capacity(9);
    for chunk in text[..8].chunks(4) {
        let n = chunk
            .iter()
            .try_fold(0u32, |n, &c| Some(n << 6 | digit(c)?))?;
        out.extend_from_slice(&n.to_be_bytes()[1..]);
    }
    let n = text[8..11]
        .iter()
        .try_fold(0u32, |n, &c| Some(n << 6 | digit(c)?))?
        << 6;
    let tail = n.to_be_bytes();
    if tail[3] != 0 {
        return None;
    }
    out.extend_from_slice(&tail[1..3]);
    <[u8; 8]>::try_from(out.as_slice()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(returns: &str, inferred: Option<&str>) -> String {
        let inferred = inferred.map_or(String::new(), |v| format!(r#", "inferredReturns": {v}"#));
        format!(
            r#"{{"functions": [{{"functionType": "Query", "identifier": "tasks.js:get", "args": {{"type": "object", "value": {{}}}}, "returns": {returns}{inferred}}}]}}"#
        )
    }

    #[test]
    fn an_inferred_validator_is_read_where_none_is_declared() {
        let spec = parse(&query(
            "null",
            Some(r#"{"type": "id", "tableName": "tasks"}"#),
        ))
        .unwrap();
        let f = &spec.functions[0];
        assert_eq!(f.returns, Some(Validator::Id("tasks".to_owned())));
        assert!(f.inferred);
    }

    #[test]
    fn a_declared_validator_wins_over_an_inferred_one() {
        let spec = parse(&query(
            r#"{"type": "string"}"#,
            Some(r#"{"type": "number"}"#),
        ))
        .unwrap();
        let f = &spec.functions[0];
        assert_eq!(f.returns, Some(Validator::String));
        assert!(!f.inferred);
    }

    #[test]
    fn an_inferred_any_or_none_leaves_the_result_untyped() {
        for json in [
            query("null", Some(r#"{"type": "any"}"#)),
            query("null", None),
        ] {
            let spec = parse(&json).unwrap();
            assert_eq!(spec.functions[0].returns, None, "{json}");
            assert!(!spec.functions[0].inferred, "{json}");
        }
    }

    #[test]
    fn a_bad_inferred_validator_is_an_error_naming_its_path() {
        let Err(e) = parse(&query("null", Some(r#"{"type": "id"}"#))) else {
            panic!("accepted an id without a table");
        };
        assert!(e.contains("$.functions[0].inferredReturns"), "{e}");
    }

    #[test]
    fn the_stub_of_an_inferred_result_is_typed_and_says_so() {
        let spec = parse(&query(
            "null",
            Some(r#"{"type": "union", "value": [{"type": "null"}, {"type": "id", "tableName": "tasks"}]}"#),
        ))
        .unwrap();
        let tokens = super::super::generate(&spec, &quote::quote!(::convex), &Default::default());
        let code = prettyplease::unparse(&syn::parse2(tokens).unwrap());
        let flat = code.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains(
                "type Output = ::core::option::Option< ::convex::value::Id<super::super::tables::Tasks>, >;"
            ),
            "{code}"
        );
        assert!(
            flat.contains(&format!("///The Convex query `tasks:get`.{INFERRED_DOC}")),
            "{code}"
        );
    }
}
