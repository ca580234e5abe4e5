//! Value formats of answers: the exact Convex encoding or clean JSON, and JavaScript's `JSON.stringify`
//! of a value for `ConvexError` messages.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use convex_fetch::__private::codec::Special;

/// The value format a request asked for in `format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `convex_encoded_json` (alias `convex_json`): the exact, invertible encoding.
    Encoded,
    /// `json` (aliases `convex_clean_json`, `export_json`): int64 as a decimal string, bytes as a base64
    /// string, NaN and ±∞ as strings. The default when `format` is absent.
    Clean,
}

impl Format {
    /// The format named by a request's `format` field; `None` for a name the deployment does not know.
    pub(crate) fn parse(name: Option<&str>) -> Option<Format> {
        match name {
            None | Some("json" | "convex_clean_json" | "export_json") => Some(Format::Clean),
            Some("convex_encoded_json" | "convex_json") => Some(Format::Encoded),
            Some(_) => None,
        }
    }

    /// A Convex-encoded value in this format.
    pub(crate) fn apply(self, value: Value) -> Value {
        match self {
            Format::Encoded => value,
            Format::Clean => clean(value),
        }
    }
}

/// The special value a one-key object such as `{"$integer": …}` stands for, if it is one.
fn special(map: &Map<String, Value>) -> Option<Special> {
    match map.iter().next() {
        Some((key, Value::String(text))) if map.len() == 1 => Special::decode(key, text).ok(),
        _ => None,
    }
}

/// Converts a Convex-encoded value to clean JSON: int64 → decimal string, bytes → base64 string,
/// NaN/±∞ → `"NaN"`/`"Infinity"`/`"-Infinity"`, -0 → the number -0.
pub(crate) fn clean(value: Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(clean).collect()),
        Value::Object(map) => match special(&map) {
            Some(Special::Integer(n)) => Value::String(n.to_string()),
            Some(Special::Float(x)) if x.is_nan() => Value::String("NaN".to_owned()),
            Some(Special::Float(x)) if x.is_infinite() => {
                Value::String(if x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned())
            }
            Some(Special::Float(x)) => {
                serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
            }
            Some(Special::Bytes(b)) => Value::String(STANDARD.encode(b)),
            None => Value::Object(map.into_iter().map(|(k, v)| (k, clean(v))).collect()),
        },
        other => other,
    }
}

/// What JavaScript's `JSON.stringify` prints for the Convex value this encoded JSON stands for, with bigints
/// as `"42n"`, as the Convex runtime builds a `ConvexError`'s message from non-string data.
pub(crate) fn js_stringify(value: &Value) -> String {
    let mut out = String::new();
    write_js(value, &mut out);
    out
}

fn write_js(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::String(s) => out.push_str(&quote(s)),
        Value::Number(n) => match n.as_f64() {
            Some(x) if n.is_f64() => out.push_str(&js_number(x)),
            _ => out.push_str(&n.to_string()),
        },
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_js(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => match special(map) {
            Some(Special::Integer(n)) => out.push_str(&quote(&format!("{n}n"))),
            Some(Special::Float(x)) => out.push_str(&js_number(x)),
            // An ArrayBuffer has no enumerable properties.
            Some(Special::Bytes(_)) => out.push_str("{}"),
            None => {
                out.push('{');
                for (i, (key, item)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&quote(key));
                    out.push(':');
                    write_js(item, out);
                }
                out.push('}');
            }
        },
    }
}

fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("\"{text}\""))
}

/// A number as `JSON.stringify` prints it: NaN and ±∞ as `null`, integral values without `.0`, `-0` as `0`,
/// exponents with their sign.
fn js_number(x: f64) -> String {
    if !x.is_finite() {
        return "null".to_owned();
    }
    if x == 0.0 {
        return "0".to_owned();
    }
    if x.fract() == 0.0 && x.abs() < 1e21 {
        return format!("{x:.0}");
    }
    let text = serde_json::Number::from_f64(x).map_or_else(|| "null".to_owned(), |n| n.to_string());
    match text.split_once('e') {
        Some((mantissa, exponent)) if !exponent.starts_with(['-', '+']) => {
            format!("{mantissa}e+{exponent}")
        }
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formats_by_name() {
        assert_eq!(Format::parse(None), Some(Format::Clean));
        assert_eq!(Format::parse(Some("json")), Some(Format::Clean));
        assert_eq!(
            Format::parse(Some("convex_clean_json")),
            Some(Format::Clean)
        );
        assert_eq!(
            Format::parse(Some("convex_encoded_json")),
            Some(Format::Encoded)
        );
        assert_eq!(Format::parse(Some("convex_json")), Some(Format::Encoded));
        assert_eq!(Format::parse(Some("xml")), None);
    }

    #[test]
    fn clean_converts_special_values() {
        let encoded = json!({
            "n": {"$integer": "KgAAAAAAAAA="},
            "neg": {"$integer": "//////////8="},
            "b": {"$bytes": "ABCD"},
            "nan": {"$float": STANDARD.encode(f64::NAN.to_le_bytes())},
            "inf": {"$float": STANDARD.encode(f64::INFINITY.to_le_bytes())},
            "ninf": {"$float": STANDARD.encode(f64::NEG_INFINITY.to_le_bytes())},
            "nz": {"$float": "AAAAAAAAAIA="},
            "list": [1.5, {"$integer": "AQAAAAAAAAA="}],
            "plain": {"a": "b", "c": null},
        });
        let clean = clean(encoded);
        assert_eq!(clean["n"], "42");
        assert_eq!(clean["neg"], "-1");
        assert_eq!(clean["b"], "ABCD");
        assert_eq!(clean["nan"], "NaN");
        assert_eq!(clean["inf"], "Infinity");
        assert_eq!(clean["ninf"], "-Infinity");
        let nz = clean["nz"].as_f64().unwrap();
        assert!(nz == 0.0 && nz.is_sign_negative());
        assert_eq!(clean["list"], json!([1.5, "1"]));
        assert_eq!(clean["plain"], json!({"a": "b", "c": null}));
    }

    #[test]
    fn stringify_like_javascript() {
        assert_eq!(
            js_stringify(&json!({"code": "E1", "n": 2.0})),
            r#"{"code":"E1","n":2}"#
        );
        assert_eq!(
            js_stringify(&json!([1.5, null, true, "x\"y"])),
            r#"[1.5,null,true,"x\"y"]"#
        );
        assert_eq!(
            js_stringify(&json!({"$integer": "KgAAAAAAAAA="})),
            r#""42n""#
        );
        assert_eq!(js_stringify(&json!({"$bytes": "ABCD"})), "{}");
        assert_eq!(js_stringify(&json!({"$float": "AAAAAAAAAIA="})), "0");
        assert_eq!(js_stringify(&json!(1e300)), "1e+300");
        assert_eq!(js_stringify(&json!(7)), "7");
    }
}
