//! The Convex JSON value encoding (`convex_encoded_json`), both ways, straight between bytes and serde types.
//!
//! PLACEHOLDER: plain serde_json until the codec lands.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Why a value could not be encoded for Convex.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EncodeError(String);

/// Encodes a function's args, which must be an object, appending the JSON to `out`.
pub(crate) fn encode_args<T: Serialize + ?Sized>(
    args: &T,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    serde_json::to_writer(out, args).map_err(|e| EncodeError(e.to_string()))
}

/// Encodes any value in the Convex JSON encoding.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, EncodeError> {
    serde_json::to_vec(value).map_err(|e| EncodeError(e.to_string()))
}

/// Decodes a value in the Convex JSON encoding into `T`.
pub fn from_slice<T: DeserializeOwned>(json: &[u8]) -> Result<T, serde_json::Error> {
    serde_json::from_slice(json)
}
