//! Types for the Convex values serde's data model does not name: `v.int64()`, `v.bytes()`, `v.id(table)` and
//! documents with their system fields.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::ser::{Serialize, SerializeMap as _, Serializer};

/// The newtype name by which the encoder recognises an [`Int64`].
pub(super) const INT64_TOKEN: &str = "$convex::Int64";

/// A Convex `int64` (`v.int64()`), sent as `{"$integer": …}`.
///
/// A plain `i64` field travels as a float64, which is what `v.number()` expects (and is refused beyond ±2^53
/// rather than rounded). Results decode `$integer` into plain `i64` fields too, so `Int64` is only needed in args.
///
/// ```
/// use convex_fetch::value::{self, Int64};
///
/// #[derive(serde::Serialize)]
/// struct Args { older_than: Int64 }
///
/// let json = value::to_vec(&Args { older_than: Int64(42) }).unwrap();
/// assert_eq!(json, br#"{"older_than":{"$integer":"KgAAAAAAAAA="}}"#);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Int64(pub i64);

impl From<i64> for Int64 {
    fn from(v: i64) -> Self {
        Int64(v)
    }
}

impl From<Int64> for i64 {
    fn from(v: Int64) -> Self {
        v.0
    }
}

impl fmt::Display for Int64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The `{"$integer": …}` object itself, so that an `Int64` is right even under plain serde_json.
struct Encoded(i64);

impl Serialize for Encoded {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("$integer", &STANDARD.encode(self.0.to_le_bytes()))?;
        map.end()
    }
}

impl Serialize for Int64 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_newtype_struct(INT64_TOKEN, &Encoded(self.0))
    }
}

impl<'de> Deserialize<'de> for Int64 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Int64;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Convex int64")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int64, E> {
                Ok(Int64(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int64, E> {
                i64::try_from(v)
                    .map(Int64)
                    .map_err(|_| E::custom("integer out of int64 range"))
            }
            // Plain serde_json (outside this crate's decoder) hands over the `$integer` object as it is.
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Int64, A::Error> {
                super::de::special_map(map, |special| match special {
                    super::de::Special::Integer(v) => Ok(Int64(v)),
                    other => Err(other.unexpected("an int64")),
                })
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Convex `bytes` (`v.bytes()`), sent as `{"$bytes": …}`.
///
/// A `Vec<u8>` field serializes as an array of numbers, as serde always does; use `Bytes` (or any type that
/// calls `serialize_bytes`, like `serde_bytes::ByteBuf`) to send bytes. Results decode `$bytes` into `Bytes`,
/// `Vec<u8>` and `serde_bytes` types alike.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub Vec<u8>);

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes(v)
    }
}

impl From<&[u8]> for Bytes {
    fn from(v: &[u8]) -> Self {
        Bytes(v.to_vec())
    }
}

impl From<Bytes> for Vec<u8> {
    fn from(v: Bytes) -> Self {
        v.0
    }
}

impl Deref for Bytes {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl DerefMut for Bytes {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("Convex bytes")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Bytes, E> {
                Ok(Bytes(v.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Bytes, E> {
                Ok(Bytes(v))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Bytes, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(b) = seq.next_element()? {
                    out.push(b);
                }
                Ok(Bytes(out))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Bytes, A::Error> {
                super::de::special_map(map, |special| match special {
                    super::de::Special::Bytes(v) => Ok(Bytes(v)),
                    other => Err(other.unexpected("bytes")),
                })
            }
        }
        // `any`, not `byte_buf`: serde_json refuses an object for `byte_buf` without asking the visitor.
        deserializer.deserialize_any(V)
    }
}

/// The id of a document in table `T` (`v.id("posts")`): a string on the wire, typed by its table here so that a
/// post's id cannot be passed where a user's is expected.
///
/// `T` is any type naming the table, usually the document's own struct.
pub struct Id<T: ?Sized> {
    id: String,
    table: PhantomData<fn() -> T>,
}

impl<T: ?Sized> Id<T> {
    /// Wraps an id string (as returned by Convex).
    pub fn new(id: impl Into<String>) -> Self {
        Id {
            id: id.into(),
            table: PhantomData,
        }
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.id
    }

    /// The id string.
    pub fn into_string(self) -> String {
        self.id
    }
}

impl<T: ?Sized> Clone for Id<T> {
    fn clone(&self) -> Self {
        Id::new(self.id.clone())
    }
}

impl<T: ?Sized> PartialEq for Id<T> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl<T: ?Sized> Eq for Id<T> {}

impl<T: ?Sized> std::hash::Hash for Id<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

impl<T: ?Sized> PartialOrd for Id<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<T: ?Sized> Ord for Id<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.id.cmp(&other.id)
    }
}

impl<T: ?Sized> fmt::Debug for Id<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Id").field(&self.id).finish()
    }
}

impl<T: ?Sized> fmt::Display for Id<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

impl<T: ?Sized> Serialize for Id<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.id)
    }
}

impl<'de, T: ?Sized> Deserialize<'de> for Id<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Id::new)
    }
}

/// A document as Convex returns it: the system fields `_id` and `_creationTime` beside the fields of `T`.
///
/// It dereferences to `T`, so `post.title` reads a field of a `Document<Post>`.
///
/// ```
/// use convex_fetch::value::{self, Document};
///
/// #[derive(serde::Deserialize)]
/// struct Post { title: String }
///
/// let json = br#"{"_id":"k57a","_creationTime":1700000000000.5,"title":"Hello"}"#;
/// let post: Document<Post> = value::from_slice(json).unwrap();
/// assert_eq!(post.id.as_str(), "k57a");
/// assert_eq!(post.title, "Hello");
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Document<T> {
    /// `_id`: the document's id in its table.
    #[serde(rename = "_id")]
    pub id: Id<T>,
    /// `_creationTime`: milliseconds since the Unix epoch, with a fraction.
    #[serde(rename = "_creationTime")]
    pub creation_time: f64,
    /// The document's own fields.
    #[serde(flatten)]
    pub fields: T,
}

impl<T> Document<T> {
    /// A document with the given system fields: for test handlers and fixtures that answer as Convex does.
    ///
    /// ```
    /// use convex_fetch::value::{Document, Id};
    ///
    /// struct Post { title: String }
    ///
    /// let post = Document::new(Id::new("k57a"), 1700000000000.5, Post { title: "Hello".into() });
    /// assert_eq!(post.id.as_str(), "k57a");
    /// assert_eq!(post.title, "Hello");
    /// ```
    pub fn new(id: Id<T>, creation_time: f64, fields: T) -> Self {
        Document {
            id,
            creation_time,
            fields,
        }
    }
}

impl<T> Deref for Document<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.fields
    }
}

impl<T> DerefMut for Document<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.fields
    }
}
