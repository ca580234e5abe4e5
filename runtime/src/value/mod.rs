//! The Convex JSON value encoding (`convex_encoded_json`), both ways, straight between bytes and serde types.
//!
//! | Convex | Rust | on the wire |
//! |---|---|---|
//! | float64 | `f64` (and other numbers within ±2^53) | a JSON number; NaN, ±∞ and -0 as `{"$float": …}` |
//! | int64 | [`Int64`] in args; `i64` in results | `{"$integer": …}` |
//! | bytes | [`Bytes`] (or anything calling `serialize_bytes`; a `Vec<u8>` is an array); `Vec<u8>` in results | `{"$bytes": …}` |
//! | id | [`Id<T>`] | a string |
//! | document | [`Document<T>`] | an object with `_id` and `_creationTime` |
//! | any | [`Value`] (lossless; `serde_json::Value` loses int64, bytes and special floats) | as its type travels |
//!
//! Encoding refuses what Convex would refuse, before anything is sent: field names that start with `$` (a
//! one-entry `$integer`, `$float` or `$bytes` object is taken as a value already encoded, so `Int64` works
//! inside `json!`), are longer than 1024 characters or are not printable ASCII; integers a float64 cannot hold exactly; function
//! arguments that are not an object. Decoding refuses malformed special objects and the obsolete `$set`/`$map`.
//!
//! ```
//! use convex_fetch::value::{self, Bytes, Int64};
//!
//! #[derive(serde::Serialize)]
//! struct Args { id: Int64, blob: Bytes, ratio: f64 }
//!
//! let json = value::to_vec(&Args { id: Int64(-1), blob: Bytes(vec![0, 0x10, 0x83]), ratio: f64::NAN }).unwrap();
//! assert_eq!(
//!     String::from_utf8(json).unwrap(),
//!     r#"{"id":{"$integer":"//////////8="},"blob":{"$bytes":"ABCD"},"ratio":{"$float":"AAAAAAAA+H8="}}"#,
//! );
//!
//! #[derive(serde::Deserialize)]
//! struct Row { id: i64, blob: Vec<u8> }
//!
//! let row: Row = value::from_slice(br#"{"id":{"$integer":"KgAAAAAAAAA="},"blob":{"$bytes":"ABCD"}}"#).unwrap();
//! assert_eq!((row.id, row.blob), (42, vec![0, 0x10, 0x83]));
//! ```

pub(crate) mod de;
mod dynamic;
mod ser;
#[cfg(test)]
mod tests;
mod types;

use serde::{Deserialize, Serialize};

use de::Special;
pub use dynamic::Value;
pub use types::{Bytes, Document, Id, Int64};

/// Why a value could not be encoded for Convex.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EncodeError(String);

impl From<serde_json::Error> for EncodeError {
    fn from(e: serde_json::Error) -> Self {
        EncodeError(e.to_string())
    }
}

/// Encodes a function's args, which must be an object (or `()` for none), appending the JSON to `out`.
pub(crate) fn encode_args<T: Serialize + ?Sized>(
    args: &T,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let mut json = serde_json::Serializer::new(out);
    args.serialize(ser::Convex {
        inner: &mut json,
        at: ser::Position::Args,
    })?;
    Ok(())
}

/// Encodes any value in the Convex JSON encoding.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(128);
    let mut json = serde_json::Serializer::new(&mut out);
    value.serialize(ser::Convex {
        inner: &mut json,
        at: ser::Position::Value,
    })?;
    Ok(out)
}

/// Encodes any value as a Convex-encoded `serde_json::Value`.
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<serde_json::Value, EncodeError> {
    let ser = ser::Convex {
        inner: serde_json::value::Serializer,
        at: ser::Position::Value,
    };
    Ok(value.serialize(ser)?)
}

/// Decodes a value in the Convex JSON encoding into `T`.
pub fn from_slice<'a, T: Deserialize<'a>>(json: &'a [u8]) -> Result<T, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let value = T::deserialize(de::Convex(&mut de))?;
    de.end()?;
    Ok(value)
}

/// Decodes `T` from a deserializer positioned at a value in the Convex encoding, such as a field of a larger
/// document being read in the same pass.
pub(crate) fn deserialize<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    T::deserialize(de::Convex(deserializer))
}

/// Decodes a borrowed Convex-encoded `serde_json::Value` into `T`, without copying it.
pub(crate) fn from_json_ref<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
) -> Result<T, serde_json::Error> {
    T::deserialize(de::Convex(value))
}

/// Decodes a Convex-encoded `serde_json::Value` into `T`.
pub fn from_value<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, serde_json::Error> {
    T::deserialize(de::Convex(value))
}
