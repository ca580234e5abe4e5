//! [`Value`]: any Convex value, held without loss.

mod codec;
mod display;
mod json;
mod literal;
#[cfg(test)]
mod tests;

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use super::{Bytes, Id, Int64};

/// A Convex value of any type, held without loss: unlike `serde_json::Value`, it tells int64 from float64
/// and bytes from an array of numbers, and keeps NaN (with its payload), ±∞ and -0.
///
/// | Convex | `Value` | JavaScript | on the wire |
/// |---|---|---|---|
/// | null | `Null` | `null` | `null` |
/// | int64 | `Int64(i64)` | `bigint` | `{"$integer": …}` |
/// | float64 | `Float64(f64)` | `number` | a number, or `{"$float": …}` for NaN, ±∞, -0 |
/// | boolean | `Boolean(bool)` | `boolean` | `true`, `false` |
/// | string | `String(String)` | `string` | a string |
/// | bytes | `Bytes(Vec<u8>)` | `ArrayBuffer` | `{"$bytes": …}` |
/// | array | `Array(Vec<Value>)` | `Array` | an array |
/// | object | `Object(BTreeMap<String, Value>)` | plain object | an object |
///
/// Objects are sorted by field name, as Convex has them: the backend keeps an object's fields in a map by
/// name and the JS client sorts them by name when it encodes, so a field order is never something Convex
/// sends or keeps.
///
/// # Wire encoding
///
/// `Value` is `Serialize` and `Deserialize` in the Convex encoding ([`value::to_vec`](super::to_vec),
/// [`value::from_slice`](super::from_slice), args of untyped calls), and decoding then encoding gives back the
/// same bytes: NaN payloads, -0, ±∞, the whole int64 range and bytes survive. It serializes to that encoding
/// under any serializer (`serde_json::to_string`, `json!`), and deserializes from it under any deserializer
/// (`serde_json::from_str` reads `{"$integer": …}` as `Int64` too). Field names are checked both ways as
/// Convex and the JS client check them (printable ASCII, at most 1024 characters, no leading `$`).
///
/// A plain JSON number, written `5` or `5.0`, is a float64 (the nearest one, as `JSON.parse` reads it); only
/// `{"$integer": …}` is an int64. Other self-describing formats follow the same rule: their integers become
/// `Float64`, their bytes `Bytes`.
///
/// Where serde buffers a value before handing it over (inside `#[serde(flatten)]` structs such as
/// [`Document`](super::Document), and untagged or internally tagged enums), the buffer has already turned
/// `{"$integer": …}` into an integer and `{"$bytes": …}` into a list of numbers, so a `Value` there reads a
/// `Float64` and an `Array`. To keep them, decode the whole value as a `Value` and take the fields from it.
///
/// # From Rust values
///
/// `i64` becomes `Int64` (it is Rust's type for Convex's int64, and the official Rust client's choice), [`Int64`]
/// too; `f64`, `f32` and the integer types narrower than 64 bits become `Float64`, which holds them exactly,
/// as a JS `number` would. `u64`, `usize` and `i128` convert to neither: say which with `Value::Int64` or
/// `Value::Float64`. Bytes come from [`Bytes`]: a `Vec<u8>`, like any `Vec`, is an array, as it is everywhere
/// else in serde and in this crate. `Option` is `Null` or its value, `()` is `Null`. The [`value!`](crate::value!)
/// macro writes literals by the same rule: `5` and `1.5` are float64, `5i64` is int64.
///
/// ```
/// use convex_fetch::value::{Bytes, Value};
///
/// let v = convex_fetch::value!({ count: 5i64, ratio: 0.5, tags: ["a", "b"], blob: Bytes(vec![1, 2]) });
/// assert_eq!(v.get("count"), Some(&Value::Int64(5)));
/// assert_eq!(v.get("ratio").and_then(Value::as_f64), Some(0.5));
/// assert_eq!(v.to_string(), r#"{ blob: Bytes("AQI="), count: 5n, ratio: 0.5, tags: ["a", "b"] }"#);
///
/// let wire = convex_fetch::value::to_vec(&v).unwrap();
/// let back: Value = convex_fetch::value::from_slice(&wire).unwrap();
/// assert_eq!(back, v);
/// ```
///
/// # Equality, hashing and order
///
/// Floats compare by their bits: NaN equals a NaN with the same payload and -0 differs from 0, so two values
/// are equal exactly when they have the same encoding. The order is the one Convex sorts values in: null <
/// int64 < float64 < boolean < string < bytes < array < object; floats in IEEE 754 total order (negative NaN
/// first, then -∞ … -0 < 0 … ∞, positive NaN last), strings by their UTF-8 bytes, bytes, arrays and objects
/// (as their sorted fields) element by element.
///
/// The enum is not `#[non_exhaustive]`: its variants are the Convex types, a part of the wire format that
/// does not grow lightly (Convex removed its set and map types rather than adding to the list), and
/// matching on all of them is the point of having it. A new Convex type would be a breaking change here, as
/// it would be for every client that reads values.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// `null`.
    #[default]
    Null,
    /// A 64-bit signed integer (`v.int64()`, a JS `bigint`).
    Int64(i64),
    /// A float64 (`v.number()`, a JS `number`), NaN, ±∞ and -0 included.
    Float64(f64),
    /// `true` or `false`.
    Boolean(bool),
    /// A string.
    String(String),
    /// Bytes (`v.bytes()`, a JS `ArrayBuffer`).
    Bytes(Vec<u8>),
    /// An array of values of any types.
    Array(Vec<Value>),
    /// An object: field names and their values, sorted by name.
    Object(BTreeMap<String, Value>),
}

impl Value {
    /// The integer, if this is an int64 (not a float64 that happens to be whole).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int64(v) => Some(*v),
            _ => None,
        }
    }

    /// The number, if this is a float64 (not an int64, which a float64 may not hold exactly).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float64(v) => Some(*v),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Boolean(v) => Some(*v),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(v) => Some(v),
            _ => None,
        }
    }

    /// The bytes, if this is bytes (not an array of numbers).
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(v) => Some(v),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(v) => Some(v),
            _ => None,
        }
    }

    /// The elements, if this is an array, to change them.
    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Value::Array(v) => Some(v),
            _ => None,
        }
    }

    /// The fields, if this is an object.
    pub fn as_object(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Object(v) => Some(v),
            _ => None,
        }
    }

    /// The fields, if this is an object, to change them.
    pub fn as_object_mut(&mut self) -> Option<&mut BTreeMap<String, Value>> {
        match self {
            Value::Object(v) => Some(v),
            _ => None,
        }
    }

    /// The field `name`, if this is an object that has it.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.as_object()?.get(name)
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The Convex name of this value's type: `"null"`, `"int64"`, `"float64"`, `"boolean"`, `"string"`,
    /// `"bytes"`, `"array"` or `"object"`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Int64(_) => "int64",
            Value::Float64(_) => "float64",
            Value::Boolean(_) => "boolean",
            Value::String(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    /// The rank of this value's type in Convex's order of values.
    fn rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Int64(_) => 1,
            Value::Float64(_) => 2,
            Value::Boolean(_) => 3,
            Value::String(_) => 4,
            Value::Bytes(_) => 5,
            Value::Array(_) => 6,
            Value::Object(_) => 7,
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Value) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Value {
    fn cmp(&self, other: &Value) -> Ordering {
        match (self, other) {
            (Value::Null, Value::Null) => Ordering::Equal,
            (Value::Int64(a), Value::Int64(b)) => a.cmp(b),
            // `total_cmp` is equal only for identical bits, which keeps `Eq` and `Hash` in step.
            (Value::Float64(a), Value::Float64(b)) => a.total_cmp(b),
            (Value::Boolean(a), Value::Boolean(b)) => a.cmp(b),
            (Value::String(a), Value::String(b)) => a.cmp(b),
            (Value::Bytes(a), Value::Bytes(b)) => a.cmp(b),
            (Value::Array(a), Value::Array(b)) => a.cmp(b),
            (Value::Object(a), Value::Object(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u8(self.rank());
        match self {
            Value::Null => {}
            Value::Int64(v) => v.hash(state),
            Value::Float64(v) => v.to_bits().hash(state),
            Value::Boolean(v) => v.hash(state),
            Value::String(v) => v.hash(state),
            Value::Bytes(v) => v.hash(state),
            Value::Array(v) => v.hash(state),
            Value::Object(v) => v.hash(state),
        }
    }
}

/// Conversions into `Float64` of the types a float64 holds exactly.
macro_rules! from_float64 {
    ($($ty:ty),*) => {$(
        impl From<$ty> for Value {
            /// A float64, which holds every value of this type exactly.
            fn from(v: $ty) -> Value {
                Value::Float64(f64::from(v))
            }
        }
    )*};
}

from_float64!(f64, f32, i32, u32, i16, u16, i8, u8);

impl From<i64> for Value {
    /// An int64: `i64` is Rust's type for Convex's int64 (for a float64, convert to `f64` first).
    fn from(v: i64) -> Value {
        Value::Int64(v)
    }
}

impl From<Int64> for Value {
    fn from(v: Int64) -> Value {
        Value::Int64(v.0)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Boolean(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::String(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::String(v)
    }
}

impl<T: ?Sized> From<Id<T>> for Value {
    /// The id's string, as ids travel.
    fn from(v: Id<T>) -> Value {
        Value::String(v.into_string())
    }
}

impl From<Bytes> for Value {
    fn from(v: Bytes) -> Value {
        Value::Bytes(v.0)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    /// An array; a `Vec<u8>` too (bytes come from [`Bytes`]).
    fn from(v: Vec<T>) -> Value {
        Value::Array(v.into_iter().map(Into::into).collect())
    }
}

impl<V: Into<Value>> From<BTreeMap<String, V>> for Value {
    /// An object. Its field names are checked when it is encoded.
    fn from(v: BTreeMap<String, V>) -> Value {
        Value::Object(v.into_iter().map(|(k, v)| (k, v.into())).collect())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    /// `Null` for `None`.
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

impl From<()> for Value {
    fn from((): ()) -> Value {
        Value::Null
    }
}
