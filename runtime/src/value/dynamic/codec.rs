//! `Value` in the Convex encoding, under this crate's codec and under any other serde format.
//!
//! Serializing writes the encoding itself (`Int64`'s `$integer` object, and `$float`/`$bytes` objects marked
//! for the codec the same way), so that plain serializers get it right too. Deserializing reads the special
//! objects itself: through the codec's adapter a plain `5` and `{"$integer": …}` would both arrive as
//! integers, so `Value` asks the adapter, by a newtype name, to step aside.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde::ser::{Error as _, Serialize, SerializeMap as _, SerializeSeq as _, Serializer};

use super::Value;
use crate::value::Int64;
use crate::value::Special;
use crate::value::de::{StrSeed, VALUE_TOKEN, read_special};
use crate::value::ser::{BYTES_TOKEN, FLOAT_TOKEN, check_field_name, special};

/// Whether a float64 travels as `{"$float": …}` rather than as a JSON number.
pub(super) fn is_special_float(v: f64) -> bool {
    !v.is_finite() || (v == 0.0 && v.is_sign_negative())
}

/// A `$float` or `$bytes` object, written by whatever serializer it is given.
struct Encoded<'a>(&'static str, &'a [u8]);

impl Serialize for Encoded<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        special(serializer, self.0, self.1)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Int64(v) => Int64(*v).serialize(serializer),
            Value::Float64(v) if is_special_float(*v) => serializer
                .serialize_newtype_struct(FLOAT_TOKEN, &Encoded("$float", &v.to_le_bytes())),
            Value::Float64(v) => serializer.serialize_f64(*v),
            Value::Boolean(v) => serializer.serialize_bool(*v),
            Value::String(v) => serializer.serialize_str(v),
            Value::Bytes(v) => {
                serializer.serialize_newtype_struct(BYTES_TOKEN, &Encoded("$bytes", v))
            }
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Object(fields) => {
                // Checked here, not only by the codec: under a plain serializer a field named `$integer`
                // would come out as an int64, and the codec lets a one-field `$integer` object through.
                for name in fields.keys() {
                    check_field_name(name).map_err(S::Error::custom)?;
                }
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (name, item) in fields {
                    map.serialize_entry(name, item)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        // The codec's adapter hands the newtype straight to the deserializer it wraps; others call
        // `visit_newtype_struct` or, at worst, visit the content directly, which reads the same.
        deserializer.deserialize_newtype_struct(VALUE_TOKEN, ValueVisitor)
    }
}

struct ValueVisitor;

/// A plain number is a float64, as `JSON.parse` reads it: the nearest one to an integer beyond 2^53.
macro_rules! plain_integers {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<Value, E> {
            Ok(Value::Float64(v as f64))
        }
    )*};
}

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Convex value")
    }

    plain_integers!(visit_i64: i64, visit_u64: u64, visit_i128: i128, visit_u128: u128);

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float64(v))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Boolean(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Bytes(v.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Bytes(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        // The hint comes from the input: never trust it for more than a modest allocation.
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let Some(first) = map.next_key_seed(StrSeed)? else {
            return Ok(Value::Object(BTreeMap::new()));
        };
        if first.starts_with('$') {
            return Ok(match read_special(&first, &mut map)? {
                Special::Integer(v) => Value::Int64(v),
                Special::Float(v) => Value::Float64(v),
                Special::Bytes(v) => Value::Bytes(v),
            });
        }
        let mut fields = BTreeMap::new();
        let mut key = Some(first);
        while let Some(name) = key {
            check_field_name(&name).map_err(A::Error::custom)?;
            let item = map.next_value()?;
            // A repeated name keeps its last value, as `JSON.parse` does.
            fields.insert(Cow::into_owned(name), item);
            key = map.next_key_seed(StrSeed)?;
        }
        Ok(Value::Object(fields))
    }
}

impl Value {
    /// Serializes `value` through the Convex encoding into a `Value`: an `Int64` field becomes `Int64`, a
    /// plain `i64` field a `Float64` (as it travels), bytes `Bytes`.
    ///
    /// ```
    /// use convex_fetch::value::{Int64, Value};
    ///
    /// #[derive(serde::Serialize)]
    /// struct Args { id: Int64, limit: u32 }
    ///
    /// let v = Value::from_serialize(&Args { id: Int64(7), limit: 10 }).unwrap();
    /// assert_eq!(v, convex_fetch::value!({ id: 7i64, limit: 10 }));
    /// ```
    pub fn from_serialize<T: Serialize + ?Sized>(
        value: &T,
    ) -> Result<Value, crate::value::EncodeError> {
        let json = crate::value::to_value(value)?;
        Value::deserialize(json).map_err(crate::value::EncodeError::from)
    }

    /// Deserializes `T` from this value, as if it had come over the wire: `Int64` into `i64` fields,
    /// `Bytes` into `Vec<u8>` or [`Bytes`](crate::value::Bytes), and so on.
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// struct Row { count: i64, name: String }
    ///
    /// let row: Row = convex_fetch::value!({ count: 5i64, name: "x" }).deserialize_into().unwrap();
    /// assert_eq!((row.count, row.name.as_str()), (5, "x"));
    /// ```
    pub fn deserialize_into<T: de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        let json = self
            .to_json()
            .map_err(<serde_json::Error as de::Error>::custom)?;
        crate::value::from_value(json)
    }
}
