//! Deserialization from the Convex JSON encoding: an adapter around any serde `Deserializer` that turns
//! `{"$integer": …}`, `{"$float": …}` and `{"$bytes": …}` into plain i64, f64 and bytes for the user's types,
//! streaming, without an intermediate tree.

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::de::value::{BorrowedStrDeserializer, SeqDeserializer, StringDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, Error as _, Visitor};

/// A value the encoding wraps in a one-key object.
#[derive(Debug)]
pub enum Special {
    Integer(i64),
    Float(f64),
    Bytes(Vec<u8>),
}

impl Special {
    /// Decodes the base64 `text` held by the special `key` (`$integer`, `$float` or `$bytes`).
    pub fn decode(key: &str, text: &str) -> Result<Special, String> {
        // The common case, an int64 or a special float, decoded on the stack: 8 bytes are 12 base64 characters.
        if matches!(key, "$integer" | "$float") && text.len() <= 12 {
            let mut buffer = [0u8; 9];
            if let Ok(8) = STANDARD.decode_slice(text.as_bytes(), &mut buffer) {
                let mut eight = [0u8; 8];
                eight.copy_from_slice(&buffer[..8]);
                if key == "$integer" {
                    return Ok(Special::Integer(i64::from_le_bytes(eight)));
                }
                let v = f64::from_le_bytes(eight);
                if !v.is_finite() || (v == 0.0 && v.is_sign_negative()) {
                    return Ok(Special::Float(v));
                }
            }
            // Anything else is refused below, with its reason.
        }
        let bytes = || {
            STANDARD
                .decode(text.as_bytes())
                .map_err(|e| format!("`{key}` is not valid base64: {e}"))
        };
        let eight = || {
            let bytes = bytes()?;
            <[u8; 8]>::try_from(bytes.as_slice())
                .map_err(|_| format!("`{key}` must hold 8 bytes, not {}", bytes.len()))
        };
        match key {
            "$integer" => eight().map(|b| Special::Integer(i64::from_le_bytes(b))),
            "$float" => eight().and_then(|b| {
                let v = f64::from_le_bytes(b);
                if v.is_finite() && !(v == 0.0 && v.is_sign_negative()) {
                    Err(format!(
                        "`$float` holds the ordinary number {v}, which Convex sends as a plain number"
                    ))
                } else {
                    Ok(Special::Float(v))
                }
            }),
            "$bytes" => bytes().map(Special::Bytes),
            _ => Err(format!("field name `{key}` starts with `$`, which Convex reserves")),
        }
    }

    pub(super) fn unexpected<E: de::Error>(&self, expected: &str) -> E {
        let found = match self {
            Special::Integer(_) => "an int64",
            Special::Float(_) => "a special float",
            Special::Bytes(_) => "bytes",
        };
        E::custom(format_args!("expected {expected}, found {found}"))
    }
}

/// The newtype name of [`Value`](super::Value)'s `Deserialize`: it reads the Convex encoding itself, so the
/// adapter steps aside for it.
pub(super) const VALUE_TOKEN: &str = "$convex::Value";

/// Reads the value of a special key (already read) and checks that it was the object's only key.
pub(super) fn read_special<'de, A: de::MapAccess<'de>>(
    key: &str,
    map: &mut A,
) -> Result<Special, A::Error> {
    let special = match key {
        "$integer" | "$float" | "$bytes" => {
            let text = map.next_value_seed(StrSeed)?;
            Special::decode(key, &text).map_err(A::Error::custom)?
        }
        "$set" | "$map" => {
            return Err(A::Error::custom(format_args!(
                "`{key}` is an obsolete Convex encoding and is not supported"
            )));
        }
        _ => {
            return Err(A::Error::custom(format_args!(
                "field name `{key}` starts with `$`, which Convex reserves"
            )));
        }
    };
    if map.next_key::<de::IgnoredAny>()?.is_some() {
        return Err(A::Error::custom(format_args!(
            "a `{key}` object must have no other field"
        )));
    }
    Ok(special)
}

/// For types that decode a special object themselves, under any deserializer: reads a one-key `$` object.
pub(super) fn special_map<'de, A, T>(
    mut map: A,
    f: impl FnOnce(Special) -> Result<T, A::Error>,
) -> Result<T, A::Error>
where
    A: de::MapAccess<'de>,
{
    match map.next_key_seed(StrSeed)? {
        Some(key) => f(read_special(&key, &mut map)?),
        None => Err(A::Error::custom(
            "expected a Convex-encoded value, found an empty object",
        )),
    }
}

/// Reads a string, borrowing it from the input when it can.
pub(super) struct StrSeed;

impl<'de> DeserializeSeed<'de> for StrSeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for StrSeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// The adapter: a deserializer that decodes Convex's special objects on the way through.
pub(super) struct Convex<D>(pub(super) D);

/// What the caller asked for, where it changes how `$bytes` is handed over.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Hint {
    /// `deserialize_bytes`/`byte_buf` (`serde_bytes`): bytes are handed over whole.
    Bytes,
    /// An integer type: a float64 with no fraction is handed over as an integer, since Convex numbers are
    /// float64 and the backend writes a count of 6 as `6.0`.
    Integer,
    /// Anything else (`Vec<u8>`, `serde_json::Value`, buffered content): bytes are handed over as a sequence
    /// of numbers, which every sequence type and `Value` accept.
    Other,
}

/// Integer targets also go through `any`, marked so that a float64 with no fraction becomes an integer.
macro_rules! integers {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
            self.0.deserialize_any(Wrap(v, Hint::Integer))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Convex<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(Wrap(v, Hint::Other))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(Wrap(v, Hint::Other))
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(Wrap(v, Hint::Bytes))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(Wrap(v, Hint::Bytes))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, D::Error> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.deserialize_seq(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_option(Wrap(v, Hint::Other))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, D::Error> {
        if name == VALUE_TOKEN {
            // This adapter would hand over both a plain `5` (float64) and `{"$integer": …}` (int64) as
            // integers; `Value` tells them apart by reading the special objects itself.
            return self.0.deserialize_newtype_struct(name, v);
        }
        self.0
            .deserialize_newtype_struct(name, Wrap(v, Hint::Other))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0
            .deserialize_enum(name, variants, Wrap(v, Hint::Other))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_ignored_any(v)
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }

    integers!(
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
    );

    // Everything else may meet a special object where it expects a scalar, so it goes through `any`.
    serde::forward_to_deserialize_any! {
        bool f32 f64 char str string unit unit_struct map struct identifier
    }
}

/// Passes a seed's deserializer through the adapter.
struct Seed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<S> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Convex(d))
    }
}

/// The user's visitor, seeing decoded values in place of special objects.
struct Wrap<V>(V, Hint);

macro_rules! forward_visits {
    ($($method:ident($ty:ty)),*) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
            self.0.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    forward_visits!(
        visit_bool(bool),
        visit_i64(i64),
        visit_i128(i128),
        visit_u64(u64),
        visit_u128(u128),
        visit_char(char),
        visit_str(&str),
        visit_borrowed_str(&'de str),
        visit_string(String),
        visit_bytes(&[u8]),
        visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>)
    );

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<V::Value, E> {
        // 2^63 and 2^64: the bounds of i64 and u64, exactly representable as f64.
        const I64_END: f64 = 9_223_372_036_854_775_808.0;
        const U64_END: f64 = 18_446_744_073_709_551_616.0;
        // 2^53: beyond it a float64 is not an integer anyone counted to, and an integer would not re-encode.
        const SAFE_END: f64 = 9_007_199_254_740_992.0;
        let whole = v.fract() == 0.0 && !(v == 0.0 && v.is_sign_negative());
        match self.1 {
            Hint::Integer if whole && (-I64_END..I64_END).contains(&v) => {
                self.0.visit_i64(v as i64)
            }
            Hint::Integer if whole && (0.0..U64_END).contains(&v) => self.0.visit_u64(v as u64),
            // A visitor that did not say what it wants may be buffering for a `flatten`ed, untagged or
            // internally tagged container, whose integer fields would then refuse the backend's `6.0`: hand
            // a whole float over as the integer it is. Float fields accept integers, so nothing is lost.
            Hint::Other if whole && (-SAFE_END..=SAFE_END).contains(&v) => {
                self.0.visit_i64(v as i64)
            }
            _ => self.0.visit_f64(v),
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_some(Convex(d))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_newtype_struct(Convex(d))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.0.visit_seq(Elements(seq))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<V::Value, A::Error> {
        let first = map.next_key_seed(StrSeed)?;
        if let Some(key) = first.as_deref().filter(|key| key.starts_with('$')) {
            return match read_special(key, &mut map)? {
                Special::Integer(v) => self.0.visit_i64(v),
                Special::Float(v) => self.0.visit_f64(v),
                Special::Bytes(v) if self.1 == Hint::Bytes => self.0.visit_byte_buf(v),
                Special::Bytes(v) => self
                    .0
                    .visit_seq(SeqDeserializer::<_, A::Error>::new(v.into_iter())),
            };
        }
        self.0.visit_map(Fields { first, map })
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.0.visit_enum(Variant(data))
    }
}

/// A sequence whose elements go through the adapter.
struct Elements<A>(A);

impl<'de, A: de::SeqAccess<'de>> de::SeqAccess<'de> for Elements<A> {
    type Error = A::Error;
    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, A::Error> {
        self.0.next_element_seed(Seed(seed))
    }
    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

/// An ordinary object: the first key, already read to look for a special one, then the rest.
struct Fields<'de, A> {
    first: Option<Cow<'de, str>>,
    map: A,
}

impl<'de, A: de::MapAccess<'de>> de::MapAccess<'de> for Fields<'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        match self.first.take() {
            Some(Cow::Borrowed(key)) => seed
                .deserialize(BorrowedStrDeserializer::new(key))
                .map(Some),
            Some(Cow::Owned(key)) => seed
                .deserialize(StringDeserializer::<A::Error>::new(key))
                .map(Some),
            None => self.map.next_key_seed(seed),
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.map.next_value_seed(Seed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.map
            .size_hint()
            .map(|n| n + usize::from(self.first.is_some()))
    }
}

/// An enum whose payload goes through the adapter.
struct Variant<A>(A);

impl<'de, A: de::EnumAccess<'de>> de::EnumAccess<'de> for Variant<A> {
    type Error = A::Error;
    type Variant = Variant<A::Variant>;
    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), A::Error> {
        self.0
            .variant_seed(seed)
            .map(|(tag, variant)| (tag, Variant(variant)))
    }
}

impl<'de, A: de::VariantAccess<'de>> de::VariantAccess<'de> for Variant<A> {
    type Error = A::Error;
    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }
    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        self.0.newtype_variant_seed(Seed(seed))
    }
    fn tuple_variant<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, Wrap(v, Hint::Other))
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, A::Error> {
        self.0.struct_variant(fields, Wrap(v, Hint::Other))
    }
}
