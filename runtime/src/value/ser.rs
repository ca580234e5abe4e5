//! Serialization into the Convex JSON encoding: an adapter around any serde `Serializer` (serde_json's writer
//! for request bodies, its `Value` serializer for `to_value`) that rewrites what plain JSON cannot carry and
//! refuses what Convex would refuse, before anything is sent.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::ser::{self, Error as _, Serialize, SerializeMap as _};

use super::types::INT64_TOKEN;

/// The newtype names by which the encoder recognises a special float (NaN, ±∞, -0) or bytes that a
/// [`Value`](super::Value) writes as its own `{"$float": …}`/`{"$bytes": …}` object, so that the object is right
/// under plain serializers too (serde_json would write NaN as `null` and bytes as an array).
pub(super) const FLOAT_TOKEN: &str = "$convex::Float";
pub(super) const BYTES_TOKEN: &str = "$convex::Bytes";

/// Integers beyond ±2^53 cannot travel as a float64 without losing digits.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Where in the value a serializer stands: the top level of the args must be an object, map keys are field names.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Position {
    Args,
    Value,
    Key,
    /// The key of a one-entry object: `$integer`, `$float` or `$bytes` there is a value already in Convex's
    /// encoding (`Int64` inside `json!`, a value read back from Convex), passed through as it is.
    EncodedKey,
}

const ENCODED_KEYS: [&str; 3] = ["$integer", "$float", "$bytes"];

/// The adapter: forwards to `inner`, rewriting special floats, bytes and `Int64` and checking field names.
pub(super) struct Convex<S> {
    pub(super) inner: S,
    pub(super) at: Position,
}

/// A value to be serialized through the adapter by a compound serializer of the inner one.
struct Nested<'a, T: ?Sized>(&'a T, Position);

impl<T: Serialize + ?Sized> Serialize for Nested<'_, T> {
    #[inline]
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(Convex {
            inner: serializer,
            at: self.1,
        })
    }
}

#[inline]
fn value<T: ?Sized>(v: &T) -> Nested<'_, T> {
    Nested(v, Position::Value)
}

/// Checks an object field name as the backend does: not empty, not starting with `$`, printable ASCII, at most
/// 1024 characters (the official JS client's `convexToJson` lets an empty name through, which the backend then
/// refuses; refusing it here says so before anything is sent).
pub(super) use crate::grammar::check_field_name;

/// How many names [`check_static_name`] remembers per thread: sets of two.
const CHECKED_SETS: usize = 64;

/// A remembered name: its address and length.
type NameKey = (usize, usize);

thread_local! {
    /// Static field names found valid on this thread, by address and length: a two-way set-associative cache,
    /// so that a type's field names are checked once, not once per value (a `Vec` of 10,000 structs repeats
    /// the same ten names 10,000 times).
    static CHECKED: [std::cell::Cell<[NameKey; 2]>; CHECKED_SETS] =
        const { [const { std::cell::Cell::new([(0, 0); 2]) }; CHECKED_SETS] };
}

/// [`check_field_name`] for a name of a type's definition (a struct field, an enum variant), remembered once
/// valid. A `&'static str` can never change nor be freed, so its address and length identify its text for
/// the life of the program.
#[inline]
fn check_static_name(name: &'static str) -> Result<(), String> {
    let key = (name.as_ptr() as usize, name.len());
    // Fibonacci hashing of the address: neighbouring names of one struct land in different sets.
    let set = key.0.wrapping_mul(0x9E37_79B9_7F4A_7C15_u64 as usize)
        >> (usize::BITS - CHECKED_SETS.trailing_zeros());
    // `try_with`: the cache has no destructor, but a miss is always safe should it be unavailable.
    if CHECKED.try_with(|checked| checked[set].get().contains(&key)) == Ok(true) {
        return Ok(());
    }
    check_field_name(name)?;
    // The newest name first; the older one stays in the second way.
    let _ = CHECKED.try_with(|checked| {
        let [newest, _] = checked[set].get();
        checked[set].set([key, newest]);
    });
    Ok(())
}

/// Writes `{key: base64(bytes)}`: a special value as Convex encodes it.
pub(super) fn special<S: ser::Serializer>(
    inner: S,
    key: &'static str,
    bytes: &[u8],
) -> Result<S::Ok, S::Error> {
    let mut map = inner.serialize_map(Some(1))?;
    map.serialize_entry(key, &STANDARD.encode(bytes))?;
    map.end()
}

impl Position {
    /// Refuses anything but an object at the top of the args, and anything but a string as a field name.
    #[inline]
    fn scalar<E: ser::Error>(self, what: &str) -> Result<(), E> {
        match self {
            Position::Value => Ok(()),
            Position::Args => Err(E::custom(format_args!(
                "function arguments must be an object (a struct or a map), not {what}"
            ))),
            Position::Key | Position::EncodedKey => Err(E::custom(format_args!(
                "object keys must be strings, not {what}"
            ))),
        }
    }
}

impl<S: ser::Serializer> Convex<S> {
    #[inline]
    fn scalar(&self, what: &str) -> Result<(), S::Error> {
        self.at.scalar(what)
    }

    /// An object is fine anywhere but as an object key.
    #[inline]
    fn object(&self) -> Result<(), S::Error> {
        match self.at {
            Position::Args | Position::Value => Ok(()),
            Position::Key | Position::EncodedKey => self.scalar("an object"),
        }
    }

    #[inline]
    fn integer(self, v: i128) -> Result<S::Ok, S::Error> {
        self.scalar("a number")?;
        if v.unsigned_abs() > u128::from(MAX_SAFE_INTEGER) {
            return Err(S::Error::custom(format_args!(
                "the integer {v} does not fit a Convex float64 exactly (beyond ±2^53); \
                 use convex_fetch::value::Int64 for a `v.int64()` field"
            )));
        }
        // serde_json writes i64/u64 without the i128 path; every value here fits an i64.
        self.inner.serialize_i64(v as i64)
    }
}

macro_rules! integers {
    ($($method:ident: $ty:ty),*) => {$(
        #[inline]
        fn $method(self, v: $ty) -> Result<S::Ok, S::Error> {
            self.integer(i128::from(v))
        }
    )*};
}

impl<S: ser::Serializer> ser::Serializer for Convex<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Compound<S::SerializeSeq>;
    type SerializeTuple = Compound<S::SerializeTuple>;
    type SerializeTupleStruct = Compound<S::SerializeTupleStruct>;
    type SerializeTupleVariant = Compound<S::SerializeTupleVariant>;
    type SerializeMap = Entries<S::SerializeMap>;
    type SerializeStruct = Compound<S::SerializeStruct>;
    type SerializeStructVariant = Compound<S::SerializeStructVariant>;

    integers!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64, serialize_i128: i128,
              serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64);

    #[inline]
    fn serialize_u128(self, v: u128) -> Result<S::Ok, S::Error> {
        // Anything beyond i128 is beyond 2^53 too.
        self.integer(i128::try_from(v).unwrap_or(i128::MAX))
    }

    #[inline]
    fn serialize_bool(self, v: bool) -> Result<S::Ok, S::Error> {
        self.scalar("a boolean")?;
        self.inner.serialize_bool(v)
    }

    #[inline]
    fn serialize_f32(self, v: f32) -> Result<S::Ok, S::Error> {
        self.serialize_f64(f64::from(v))
    }

    #[inline]
    fn serialize_f64(self, v: f64) -> Result<S::Ok, S::Error> {
        self.scalar("a number")?;
        if v.is_finite() && !(v == 0.0 && v.is_sign_negative()) {
            self.inner.serialize_f64(v)
        } else {
            special(self.inner, "$float", &v.to_le_bytes())
        }
    }

    #[inline]
    fn serialize_char(self, v: char) -> Result<S::Ok, S::Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    #[inline]
    fn serialize_str(self, v: &str) -> Result<S::Ok, S::Error> {
        match self.at {
            Position::EncodedKey if ENCODED_KEYS.contains(&v) => {}
            Position::Key | Position::EncodedKey => {
                check_field_name(v).map_err(S::Error::custom)?
            }
            at => at.scalar::<S::Error>("a string")?,
        }
        self.inner.serialize_str(v)
    }

    #[inline]
    fn serialize_bytes(self, v: &[u8]) -> Result<S::Ok, S::Error> {
        self.scalar("bytes")?;
        special(self.inner, "$bytes", v)
    }

    #[inline]
    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.serialize_unit()
    }

    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<S::Ok, S::Error> {
        v.serialize(self)
    }

    #[inline]
    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        match self.at {
            // No args at all: Convex's `{}`.
            Position::Args => self.inner.serialize_map(Some(0))?.end(),
            _ => {
                self.scalar("null")?;
                self.inner.serialize_unit()
            }
        }
    }

    #[inline]
    fn serialize_unit_struct(self, _name: &'static str) -> Result<S::Ok, S::Error> {
        self.serialize_unit()
    }

    #[inline]
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.serialize_str(variant)
    }

    #[inline]
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        v: &T,
    ) -> Result<S::Ok, S::Error> {
        let encoded = match name {
            INT64_TOKEN => Some("an int64"),
            FLOAT_TOKEN => Some("a number"),
            BYTES_TOKEN => Some("bytes"),
            _ => None,
        };
        if let Some(what) = encoded {
            self.scalar(what)?;
            // `Int64` and `Value` write their own `{"$integer": …}` (or `$float`, `$bytes`), the one `$` key
            // allowed through.
            return v.serialize(self.inner);
        }
        v.serialize(self)
    }

    #[inline]
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<S::Ok, S::Error> {
        check_static_name(variant).map_err(S::Error::custom)?;
        self.inner
            .serialize_newtype_variant(name, index, variant, &value(v))
    }

    #[inline]
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.scalar("an array")?;
        self.inner.serialize_seq(len).map(Compound)
    }

    #[inline]
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.scalar("an array")?;
        self.inner.serialize_tuple(len).map(Compound)
    }

    #[inline]
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.scalar("an array")?;
        self.inner.serialize_tuple_struct(name, len).map(Compound)
    }

    #[inline]
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        check_static_name(variant).map_err(S::Error::custom)?;
        self.inner
            .serialize_tuple_variant(name, index, variant, len)
            .map(Compound)
    }

    #[inline]
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.object()?;
        let key = if len == Some(1) {
            Position::EncodedKey
        } else {
            Position::Key
        };
        self.inner
            .serialize_map(len)
            .map(|inner| Entries { inner, key })
    }

    #[inline]
    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.object()?;
        self.inner.serialize_struct(name, len).map(Compound)
    }

    #[inline]
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        check_static_name(variant).map_err(S::Error::custom)?;
        self.inner
            .serialize_struct_variant(name, index, variant, len)
            .map(Compound)
    }

    #[inline]
    fn is_human_readable(&self) -> bool {
        true
    }
}

/// A compound serializer of the inner serializer whose elements go through the adapter.
pub(super) struct Compound<C>(C);

/// The four sequence-like compounds differ only in their trait and method name.
macro_rules! elements {
    ($($trait:ident::$method:ident),*) => {$(
        impl<C: ser::$trait> ser::$trait for Compound<C> {
            type Ok = C::Ok;
            type Error = C::Error;
            #[inline]
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), C::Error> {
                self.0.$method(&value(v))
            }
            #[inline]
            fn end(self) -> Result<C::Ok, C::Error> {
                self.0.end()
            }
        }
    )*};
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// A map serializer of the inner serializer whose keys are checked as field names.
pub(super) struct Entries<C> {
    inner: C,
    key: Position,
}

impl<C: ser::SerializeMap> ser::SerializeMap for Entries<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    #[inline]
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), C::Error> {
        self.inner.serialize_key(&Nested(k, self.key))
    }
    #[inline]
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), C::Error> {
        self.inner.serialize_value(&value(v))
    }
    #[inline]
    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

impl<C: ser::SerializeStruct> ser::SerializeStruct for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        v: &T,
    ) -> Result<(), C::Error> {
        check_static_name(name).map_err(C::Error::custom)?;
        self.0.serialize_field(name, &value(v))
    }
    #[inline]
    fn skip_field(&mut self, name: &'static str) -> Result<(), C::Error> {
        self.0.skip_field(name)
    }
    #[inline]
    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

impl<C: ser::SerializeStructVariant> ser::SerializeStructVariant for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        v: &T,
    ) -> Result<(), C::Error> {
        check_static_name(name).map_err(C::Error::custom)?;
        self.0.serialize_field(name, &value(v))
    }
    #[inline]
    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}
