//! The function spec (`npx convex function-spec`) read into a model; every error names the JSON path.

use serde_json::{Map, Value};

use crate::grammar::{self, FunctionPath};
use crate::stub::Kind;

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
    /// `None`: no returns validator (`null`, `any` or absent).
    pub(crate) returns: Option<Validator>,
}

pub(crate) struct Route {
    pub(crate) method: String,
    pub(crate) path: String,
}

pub(crate) struct Field {
    pub(crate) name: String,
    pub(crate) optional: bool,
    pub(crate) ty: Validator,
}

pub(crate) enum Literal {
    String(String),
    Number,
    Boolean,
    Int64,
}

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
}

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

pub(crate) fn parse(json: &str) -> Result<Spec> {
    let root: Value = serde_json::from_str(json).map_err(|e| format!("not valid JSON: {e}"))?;
    let root = object(&root, "$")?;
    let Some(Value::Array(entries)) = root.get("functions") else {
        return err(
            "$",
            "expected `functions`, an array (the output of `npx convex function-spec`)",
        );
    };
    let mut spec = Spec {
        functions: Vec::new(),
        routes: Vec::new(),
    };
    for (i, entry) in entries.iter().enumerate() {
        let at = format!("$.functions[{i}]");
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

fn function(obj: &Map<String, Value>, kind: Kind, at: &str) -> Result<Function> {
    let identifier = string(obj, "identifier", at)?;
    let path = FunctionPath::parse(identifier).or_else(|why| {
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
    let returns = match obj.get("returns") {
        None | Some(Value::Null) => None,
        Some(v) => match validator(v, &format!("{at}.returns"))? {
            Validator::Any => None,
            other => Some(other),
        },
    };
    Ok(Function {
        modules: path.module().split('/').map(str::to_owned).collect(),
        export: path.export().to_owned(),
        path: path.canonical(),
        kind,
        internal,
        args,
        returns,
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
        "literal" => Validator::Literal(match inner("value")? {
            Value::String(s) => Literal::String(s.clone()),
            Value::Number(_) => Literal::Number,
            Value::Bool(_) => Literal::Boolean,
            Value::Object(o) if o.contains_key("$integer") => Literal::Int64,
            Value::Object(o) if o.contains_key("$float") => Literal::Number,
            _ => return err(&format!("{at}.value"), "unsupported literal"),
        }),
        "id" => {
            let table = string(obj, "tableName", at)?;
            grammar::check_identifier(table, "table name")
                .or_else(|why| err(&format!("{at}.tableName"), why))?;
            Validator::Id(table.to_owned())
        }
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
                let field_at = format!("{value_at}.{name}");
                // Object validators name their fields with identifiers, which also makes them Rust names.
                grammar::check_identifier(name, "field name").or_else(|why| err(&field_at, why))?;
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
        other => {
            return err(
                &format!("{at}.type"),
                format_args!("unknown validator type `{other}`"),
            );
        }
    })
}
