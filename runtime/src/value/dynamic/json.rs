//! `Value` to and from `serde_json::Value`: the Convex-encoded JSON (lossless both ways) and the clean JSON
//! of Convex's `json` format (lossy, for people and for tools that know nothing of Convex).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize as _;
use serde::de::Error as _;
use serde_json::{Map, Number, Value as Json};

use super::Value;
use crate::value::EncodeError;
use crate::value::ser::check_field_name;

impl Value {
    /// The value as Convex-encoded JSON, exactly as it travels: `{"$integer": …}` for an int64,
    /// `{"$float": …}` for NaN, ±∞ and -0, `{"$bytes": …}` for bytes. Nothing is lost; [`Value::from_json`]
    /// reads it back.
    ///
    /// Fails only for an object with a field name Convex refuses: one that starts with `$`, is longer than
    /// 1024 characters or is not printable ASCII.
    pub fn to_json(&self) -> Result<Json, EncodeError> {
        crate::value::to_value(self)
    }

    /// Reads Convex-encoded JSON: `{"$integer": …}`, `{"$float": …}` and `{"$bytes": …}` become `Int64`,
    /// `Float64` and `Bytes`, and every plain number is a float64, whether serde_json parsed it as an integer
    /// or not (`json!({"n": 5})` is `Float64(5.0)`, as `JSON.parse` and Convex have it). Malformed special
    /// objects and field names Convex refuses are errors.
    ///
    /// For JSON written with Rust integers in mind, see [`Value::from_json_integers_as_int64`].
    pub fn from_json(json: Json) -> Result<Value, serde_json::Error> {
        Value::deserialize(json)
    }

    /// Reads JSON as [`Value::from_json`] does, except that a number serde_json holds as an integer
    /// (written without a fraction or exponent: `5`, not `5.0`) becomes an `Int64`; one beyond the int64
    /// range is an error. For JSON that did not come from Convex, such as a `json!` literal written for an
    /// int64 argument.
    ///
    /// ```
    /// use convex_fetch::value::Value;
    /// use serde_json::json;
    ///
    /// let v = Value::from_json_integers_as_int64(json!({"n": 5, "x": 5.0})).unwrap();
    /// assert_eq!(v, convex_fetch::value!({ n: 5i64, x: 5.0 }));
    /// ```
    pub fn from_json_integers_as_int64(json: Json) -> Result<Value, serde_json::Error> {
        match json {
            Json::Number(n) if !n.is_f64() => n.as_i64().map(Value::Int64).ok_or_else(|| {
                serde_json::Error::custom(format_args!("the integer {n} does not fit an int64"))
            }),
            Json::Array(items) => items
                .into_iter()
                .map(Value::from_json_integers_as_int64)
                .collect::<Result<_, _>>()
                .map(Value::Array),
            // A special object, or a malformed one: its own error.
            Json::Object(map) if map.keys().next().is_some_and(|k| k.starts_with('$')) => {
                Value::from_json(Json::Object(map))
            }
            Json::Object(map) => map
                .into_iter()
                .map(|(name, item)| {
                    check_field_name(&name).map_err(serde_json::Error::custom)?;
                    Ok((name, Value::from_json_integers_as_int64(item)?))
                })
                .collect::<Result<_, serde_json::Error>>()
                .map(Value::Object),
            other => Value::from_json(other),
        }
    }

    /// The value in Convex's clean JSON (the `json` format of the HTTP API, and of `npx convex export`):
    /// an int64 as its decimal string (`"42"`), bytes as a base64 string, NaN as `"NaN"`, ±∞ as
    /// `"Infinity"`/`"-Infinity"`, -0 as the number `-0.0`.
    ///
    /// This loses information: a string may have been an int64 or bytes, and it cannot be read back
    /// without knowing the types. Field names are not checked. Use it to show a value, or to hand it to
    /// code that knows nothing of Convex; use [`Value::to_json`] to keep it.
    pub fn to_clean_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Int64(v) => Json::String(v.to_string()),
            Value::Float64(v) if v.is_nan() => Json::String("NaN".to_owned()),
            Value::Float64(v) if v.is_infinite() => {
                Json::String(if *v > 0.0 { "Infinity" } else { "-Infinity" }.to_owned())
            }
            // Every finite float is a JSON number; -0.0 stays -0.0.
            Value::Float64(v) => Number::from_f64(*v).map_or(Json::Null, Json::Number),
            Value::Boolean(v) => Json::Bool(*v),
            Value::String(v) => Json::String(v.clone()),
            Value::Bytes(v) => Json::String(STANDARD.encode(v)),
            Value::Array(items) => Json::Array(items.iter().map(Value::to_clean_json).collect()),
            Value::Object(fields) => Json::Object(
                fields
                    .iter()
                    .map(|(name, item)| (name.clone(), item.to_clean_json()))
                    .collect::<Map<_, _>>(),
            ),
        }
    }
}

impl TryFrom<Json> for Value {
    type Error = serde_json::Error;

    /// [`Value::from_json`]: Convex-encoded JSON, plain numbers as float64.
    fn try_from(json: Json) -> Result<Value, serde_json::Error> {
        Value::from_json(json)
    }
}

impl TryFrom<Value> for Json {
    type Error = EncodeError;

    /// [`Value::to_json`]: the Convex-encoded JSON.
    fn try_from(value: Value) -> Result<Json, EncodeError> {
        value.to_json()
    }
}

impl TryFrom<&Value> for Json {
    type Error = EncodeError;

    /// [`Value::to_json`]: the Convex-encoded JSON.
    fn try_from(value: &Value) -> Result<Json, EncodeError> {
        value.to_json()
    }
}
