//! A query's latest result as its subscribers share it: the outcome, and what it decoded to, once per output
//! type.
//!
//! A Transition that changes a query with N subscribers wakes all N; each yields the result as its own `T`.
//! Decoding the same JSON N times (walking it, matching field names, unpacking `$integer`s) is the costly
//! part for anything larger than a number, so the first subscriber to read a result as `T` decodes it and
//! the others clone that `T`, each on its own task. Sharing asks for `T: Clone + Sync` on that path; the
//! cache is keyed by `TypeId` since subscribers of one query may decode it as different types
//! (`.returning::<U>()`).

use super::worker::Outcome;
use crate::error::{Error, ErrorKind, FunctionName};
use serde::de::DeserializeOwned;
use std::any::{Any, TypeId};
use std::sync::{Arc, Mutex, OnceLock};

/// A query's latest outcome, with its decodings; what a query's `watch` channel holds. A new result is a
/// new `Latest` with no decoding yet.
#[derive(Clone)]
pub(crate) struct Latest {
    pub(crate) outcome: Outcome,
    decoded: Arc<Decoded>,
}

/// The decodings of one result: for each type, its [`Slot`].
#[derive(Default)]
struct Decoded {
    /// The first type it is read as, found without a lock: the subscribers of a query nearly always read
    /// it as one type.
    first: OnceLock<Box<dyn Any + Send + Sync>>,
    /// Any other types.
    others: Mutex<Vec<(TypeId, Box<dyn Any + Send + Sync>)>>,
}

/// One type's decoding of a result, made by the first reader of that type.
type Slot<T> = Arc<OnceLock<Result<T, Mismatch>>>;

/// Why a value did not decode as a type: serde's message and an excerpt of the value, as
/// [`ErrorKind::Decode`] carries them (the error itself is not `Clone`).
#[derive(Clone)]
struct Mismatch {
    message: String,
    excerpt: String,
}

impl Latest {
    pub(crate) fn new(outcome: Outcome) -> Latest {
        Latest {
            outcome,
            decoded: Arc::default(),
        }
    }

    /// The outcome as a `T`, decoded at most once per type for every reader of this result. Readers of one
    /// type wait for its decoding (rather than repeat it) but clone their copy in parallel; readers of other
    /// types do not wait, and the first type's readers take no lock.
    pub(crate) fn decode_shared<T>(&self, function: &FunctionName) -> Result<T, Error>
    where
        T: DeserializeOwned + Clone + Send + Sync + 'static,
    {
        let Outcome::Value(value) = &self.outcome else {
            // Failures are built per reader: `Error` is not `Clone`, and they are not the hot path.
            return super::decode(function, self.outcome.clone());
        };
        let first = self
            .decoded
            .first
            .get_or_init(|| Box::new(Slot::<T>::default()));
        let other;
        let slot: &Slot<T> = match first.downcast_ref::<Slot<T>>() {
            Some(slot) => slot,
            None => {
                other = self.other_slot::<T>();
                &other
            }
        };
        let result = slot.get_or_init(|| {
            crate::value::from_json_ref::<T>(value).map_err(|e| Mismatch {
                message: e.to_string(),
                excerpt: crate::wire::excerpt(value.to_string().as_bytes()),
            })
        });
        result.clone().map_err(|mismatch| {
            let kind = ErrorKind::Decode {
                message: mismatch.message,
                excerpt: mismatch.excerpt,
            };
            Error::call(function, kind)
        })
    }

    /// The slot of a type other than the first.
    fn other_slot<T: Send + Sync + 'static>(&self) -> Slot<T> {
        let mut others = super::lock(&self.decoded.others);
        let id = TypeId::of::<T>();
        let found = others
            .iter()
            .find(|(t, _)| *t == id)
            .and_then(|(_, any)| any.downcast_ref::<Slot<T>>())
            .cloned();
        found.unwrap_or_else(|| {
            let slot = Slot::<T>::default();
            others.push((id, Box::new(slot.clone())));
            slot
        })
    }

    /// The outcome as a `T`, decoded for this reader alone: for a one-off read, or a type that is not
    /// `Clone`.
    pub(crate) fn decode_own<T: DeserializeOwned>(
        &self,
        function: &FunctionName,
    ) -> Result<T, Error> {
        super::decode(function, self.outcome.clone())
    }

    /// How many types this result has been decoded as (for tests).
    #[cfg(test)]
    pub(crate) fn decodings(&self) -> usize {
        usize::from(self.decoded.first.get().is_some()) + super::lock(&self.decoded.others).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::function::FunctionKind;
    use serde::{Deserialize, Deserializer};
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn function() -> FunctionName {
        FunctionName {
            kind: FunctionKind::Query,
            path: "posts:list".to_owned(),
        }
    }

    fn value(json: serde_json::Value) -> Latest {
        Latest::new(Outcome::Value(Arc::new(json)))
    }

    /// Counts its own decodings: each test gets its own counter through its own type.
    macro_rules! counted {
        ($name:ident, $counter:ident) => {
            static $counter: AtomicUsize = AtomicUsize::new(0);
            #[derive(Debug, Clone, PartialEq)]
            struct $name(Vec<String>);
            impl<'de> Deserialize<'de> for $name {
                fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    $counter.fetch_add(1, Ordering::SeqCst);
                    Vec::<String>::deserialize(d).map($name)
                }
            }
        };
    }

    #[test]
    fn a_result_is_decoded_once_per_type_for_every_reader() {
        counted!(Titles, TITLES);
        let latest = value(json!(["a", "b"]));
        let readers: Vec<Latest> = (0..5).map(|_| latest.clone()).collect();
        for reader in &readers {
            let titles: Titles = reader.decode_shared(&function()).expect("titles");
            assert_eq!(titles, Titles(vec!["a".to_owned(), "b".to_owned()]));
        }
        assert_eq!(TITLES.load(Ordering::SeqCst), 1);
        // Another type of the same result is decoded once too, beside the first.
        let raw: Vec<String> = latest.decode_shared(&function()).expect("strings");
        assert_eq!(raw, ["a", "b"]);
        assert_eq!(latest.decodings(), 2);
    }

    #[test]
    fn a_new_result_is_decoded_anew() {
        counted!(Names, NAMES);
        let first = value(json!(["a"]));
        let _: Names = first.decode_shared(&function()).expect("names");
        let second = value(json!(["a", "c"]));
        let names: Names = second.decode_shared(&function()).expect("names");
        assert_eq!(names.0, ["a", "c"]);
        assert_eq!(NAMES.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_mismatch_is_decoded_once_and_reported_to_each_reader() {
        counted!(Tags, TAGS);
        let latest = value(json!({ "not": "a list" }));
        for _ in 0..3 {
            match latest.decode_shared::<Tags>(&function()) {
                Err(error) => {
                    assert_eq!(
                        error.function().map(|f| f.path.as_str()),
                        Some("posts:list")
                    );
                    let ErrorKind::Decode { excerpt, .. } = error.kind() else {
                        panic!("expected a decode error, got {error:?}");
                    };
                    assert!(excerpt.contains("a list"), "{excerpt}");
                }
                other => panic!("expected a decode error, got {other:?}"),
            }
        }
        assert_eq!(TAGS.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_failure_is_an_error_for_each_reader_and_caches_nothing() {
        let latest = Latest::new(Outcome::Failed(Arc::new(super::super::worker::Failure {
            message: "boom".to_owned(),
            data: None,
            log_lines: Vec::new(),
        })));
        for _ in 0..2 {
            let error = latest
                .decode_shared::<Vec<String>>(&function())
                .expect_err("a failure");
            assert!(error.to_string().contains("boom"), "{error}");
        }
        assert_eq!(latest.decodings(), 0);
    }

    #[test]
    fn an_own_decoding_is_not_shared() {
        let latest = value(json!([1.5]));
        let numbers: Vec<f64> = latest.decode_own(&function()).expect("numbers");
        assert_eq!(numbers, [1.5]);
        assert_eq!(latest.decodings(), 0);
    }
}
