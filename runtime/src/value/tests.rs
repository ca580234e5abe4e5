use std::collections::BTreeMap;

use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::*;

fn encoded<T: Serialize + ?Sized>(v: &T) -> String {
    String::from_utf8(to_vec(v).unwrap()).unwrap()
}

fn args<T: Serialize + ?Sized>(v: &T) -> Result<String, EncodeError> {
    let mut out = Vec::new();
    encode_args(v, &mut out).map(|()| String::from_utf8(out).unwrap())
}

#[test]
fn byte_exact_examples_from_the_protocol() {
    assert_eq!(encoded(&Int64(42)), r#"{"$integer":"KgAAAAAAAAA="}"#);
    assert_eq!(encoded(&Int64(1)), r#"{"$integer":"AQAAAAAAAAA="}"#);
    assert_eq!(encoded(&Int64(-1)), r#"{"$integer":"//////////8="}"#);
    assert_eq!(encoded(&-0.0f64), r#"{"$float":"AAAAAAAAAIA="}"#);
    assert_eq!(
        encoded(&Bytes(vec![0x00, 0x10, 0x83])),
        r#"{"$bytes":"ABCD"}"#
    );
}

#[test]
fn special_floats_are_wrapped_and_ordinary_ones_are_not() {
    assert_eq!(encoded(&f64::INFINITY), r#"{"$float":"AAAAAAAA8H8="}"#);
    assert_eq!(encoded(&f64::NEG_INFINITY), r#"{"$float":"AAAAAAAA8P8="}"#);
    assert_eq!(encoded(&0.0f64), "0.0");
    assert_eq!(encoded(&1.5f32), "1.5");
    assert_eq!(encoded(&f32::NAN), r#"{"$float":"AAAAAAAA+H8="}"#);
}

#[test]
fn int64_is_right_under_plain_serde_json_too() {
    assert_eq!(
        serde_json::to_string(&Int64(42)).unwrap(),
        r#"{"$integer":"KgAAAAAAAAA="}"#
    );
    let back: Int64 = serde_json::from_str(r#"{"$integer":"KgAAAAAAAAA="}"#).unwrap();
    assert_eq!(back, Int64(42));
    let bytes: Bytes = serde_json::from_str(r#"{"$bytes":"ABCD"}"#).unwrap();
    assert_eq!(bytes.0, [0, 0x10, 0x83]);
}

#[test]
fn integers_beyond_two_to_the_53_are_refused_with_a_pointer_to_int64() {
    assert_eq!(encoded(&9_007_199_254_740_991u64), "9007199254740991");
    assert_eq!(encoded(&-9_007_199_254_740_991i64), "-9007199254740991");
    let err = to_vec(&9_007_199_254_740_992u64).unwrap_err().to_string();
    assert!(
        err.contains("9007199254740992") && err.contains("Int64"),
        "{err}"
    );
    assert!(to_vec(&i128::MIN).is_err());
    assert!(to_vec(&u128::MAX).is_err());
}

#[test]
fn dollar_and_bad_field_names_are_refused() {
    #[derive(Serialize)]
    struct Bad {
        #[serde(rename = "$id")]
        id: u8,
    }
    let err = to_vec(&Bad { id: 1 }).unwrap_err().to_string();
    assert!(err.contains("`$id`") && err.contains("reserves"), "{err}");

    // A one-entry `$integer`/`$float`/`$bytes` object is a value already encoded (`Int64` inside `json!`);
    // any other `$` key, or one of those beside other keys, is refused.
    assert_eq!(
        encoded(&json!({ "n": Int64(42), "f": { "$float": "AAAAAAAAAIA=" } })),
        r#"{"f":{"$float":"AAAAAAAAAIA="},"n":{"$integer":"KgAAAAAAAAA="}}"#
    );
    assert!(to_vec(&json!({ "$integer": "KgAAAAAAAAA=", "x": 1 })).is_err());
    assert!(to_vec(&json!({ "$id": "x" })).is_err());
    assert!(to_vec(&BTreeMap::from([("tab\t", 1)])).is_err());
    assert!(to_vec(&BTreeMap::from([("é", 1)])).is_err());
    assert!(to_vec(&BTreeMap::from([("x".repeat(1025), 1)])).is_err());
    assert!(to_vec(&BTreeMap::from([("x".repeat(1024), 1)])).is_ok());
    assert!(to_vec(&json!({"nested": [{"$bad": 1}]})).is_err());
    assert!(
        to_vec(&BTreeMap::from([(1, 2)])).is_err(),
        "object keys are strings"
    );
    assert!(
        to_vec(&BTreeMap::from([("_id", 1)])).is_ok(),
        "system-looking names are fine in args"
    );
}

#[test]
fn args_must_be_an_object() {
    assert_eq!(args(&json!({"a": 1})).unwrap(), r#"{"a":1}"#);
    assert_eq!(args(&()).unwrap(), "{}");
    assert_eq!(
        args(&json!(null)).unwrap(),
        "{}",
        "no args at all, like JS `undefined`"
    );
    #[derive(Serialize)]
    struct Wrapper(BTreeMap<String, u8>);
    assert_eq!(args(&Wrapper(BTreeMap::new())).unwrap(), "{}");
    for (bad, what) in [
        (json!(1), "a number"),
        (json!([1]), "an array"),
        (json!("x"), "a string"),
        (json!(true), "a boolean"),
    ] {
        let err = args(&bad).unwrap_err().to_string();
        assert!(
            err.contains("must be an object") && err.contains(what),
            "{err}"
        );
    }
    assert!(args(&Int64(1)).is_err());
}

#[test]
fn none_is_null_and_enums_keep_serde_shapes() {
    #[derive(Serialize)]
    #[serde(rename_all = "lowercase")]
    enum Status {
        Draft,
        Scheduled { at: f64 },
    }
    assert_eq!(encoded(&Option::<u8>::None), "null");
    assert_eq!(encoded(&Status::Draft), r#""draft""#);
    assert_eq!(
        encoded(&Status::Scheduled { at: -0.0 }),
        r#"{"scheduled":{"at":{"$float":"AAAAAAAAAIA="}}}"#
    );
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    count: i64,
    unsigned: u64,
    ratio: f64,
    blob: Vec<u8>,
    wrapped: Bytes,
    maybe: Option<i64>,
    nested: Vec<Option<f64>>,
    tagged: Tagged,
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Tagged {
    Big { value: i64 },
}

#[test]
fn results_decode_special_values_into_plain_fields() {
    let json = br#"{
        "count": {"$integer": "//////////8="},
        "unsigned": {"$integer": "KgAAAAAAAAA="},
        "ratio": {"$float": "AAAAAAAA8H8="},
        "blob": {"$bytes": "ABCD"},
        "wrapped": {"$bytes": ""},
        "maybe": {"$integer": "AQAAAAAAAAA="},
        "nested": [null, {"$float": "AAAAAAAAAIA="}, 2],
        "tagged": {"kind": "big", "value": {"$integer": "KgAAAAAAAAA="}}
    }"#;
    let row: Row = from_slice(json).unwrap();
    assert_eq!(row.count, -1);
    assert_eq!(row.unsigned, 42);
    assert_eq!(row.ratio, f64::INFINITY);
    assert_eq!(row.blob, [0, 0x10, 0x83]);
    assert!(row.wrapped.is_empty());
    assert_eq!(row.maybe, Some(1));
    assert_eq!(row.nested[0], None);
    assert!(row.nested[1].unwrap().is_sign_negative());
    assert_eq!(row.nested[2], Some(2.0));
    assert_eq!(row.tagged, Tagged::Big { value: 42 });

    let from_tree: Row = from_value(serde_json::from_slice(json).unwrap()).unwrap();
    assert_eq!(from_tree.count, -1);
    assert_eq!(from_tree.blob, [0, 0x10, 0x83]);
}

#[test]
fn generic_values_see_plain_numbers() {
    let v: serde_json::Value =
        from_slice(br#"{"a":{"$integer":"KgAAAAAAAAA="},"b":[{"c":1}]}"#).unwrap();
    assert_eq!(v, json!({"a": 42, "b": [{"c": 1}]}));
}

#[test]
fn malformed_special_objects_are_errors() {
    let cases: [(&[u8], &str); 7] = [
        (br#"{"$integer":"AQ=="}"#, "8 bytes"),
        (br#"{"$integer":"not base64!"}"#, "base64"),
        (br#"{"$float":"AAAAAAAA8D8="}"#, "ordinary number"),
        (br#"{"$integer":"KgAAAAAAAAA=","x":1}"#, "no other field"),
        (br#"{"$set":[]}"#, "obsolete"),
        (br#"{"$map":[]}"#, "obsolete"),
        (br#"{"$what":1}"#, "reserves"),
    ];
    for (json, expected) in cases {
        let err = from_slice::<serde_json::Value>(json)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(expected),
            "{}: {err}",
            String::from_utf8_lossy(json)
        );
    }
    let err = from_slice::<String>(br#"{"$integer":"KgAAAAAAAAA="}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("integer"), "{err}");
}

#[test]
fn documents_and_ids() {
    #[derive(Debug, PartialEq, Deserialize, Serialize)]
    struct Post {
        title: String,
        views: i64,
    }
    let json = br#"{"_id":"k57","_creationTime":1700000000000.25,"title":"Hi","views":{"$integer":"KgAAAAAAAAA="}}"#;
    let doc: Document<Post> = from_slice(json).unwrap();
    assert_eq!(doc.id, Id::new("k57"));
    assert_eq!(doc.creation_time, 1_700_000_000_000.25);
    assert_eq!((doc.title.as_str(), doc.views), ("Hi", 42));
    assert_eq!(format!("{:?}", doc.id), r#"Id("k57")"#);
    assert_eq!(encoded(&doc.id), r#""k57""#);
}

#[test]
fn borrowed_strings_survive_the_adapter() {
    #[derive(Deserialize)]
    struct Borrowing<'a> {
        name: &'a str,
    }
    let json = br#"{"name":"zero-copy"}"#;
    let b: Borrowing<'_> = from_slice(json).unwrap();
    assert_eq!(b.name, "zero-copy");
}

#[test]
fn whole_floats_decode_into_integers_and_fractions_do_not() {
    // Convex numbers are float64: the backend writes a count of 6 as `6.0`.
    assert_eq!(from_slice::<u8>(b"6.0").unwrap(), 6);
    assert_eq!(
        from_slice::<i64>(b"-9007199254740992.0").unwrap(),
        -9_007_199_254_740_992
    );
    assert_eq!(
        from_slice::<u64>(b"1.8446744073709550e19").unwrap(),
        18_446_744_073_709_549_568
    );
    assert!(from_slice::<u8>(b"6.5").is_err());
    assert!(from_slice::<u8>(b"300.0").is_err());
    assert!(from_slice::<i64>(b"1e300").is_err());
    let f: f64 = from_slice(b"6.0").unwrap();
    assert_eq!(f, 6.0);
    // `serde_json::Value` cannot tell float64 from int64 anyway: a whole float within ±2^53 reads as an
    // integer there (see `whole_floats_survive_buffering_containers`), anything else stays a float.
    let v: serde_json::Value = from_slice(b"[6.0, 6.5, -0.0, 1e300]").unwrap();
    assert_eq!(v, json!([6, 6.5, -0.0, 1e300]));
    assert!(v[2].as_f64().unwrap().is_sign_negative());
}

/// The fields of a document as the backend writes them: counts as `6.0`, an int64, bytes, a NaN.
const DOCUMENT: &[u8] = br#"{"_id":"k1","_creationTime":1.5,"count":6.0,"big":{"$integer":"//////////8="},"blob":{"$bytes":"ABCD"},"ratio":{"$float":"AAAAAAAA+H8="},"kind":"post"}"#;

#[derive(Debug, Deserialize, PartialEq)]
struct Counted {
    count: u32,
    big: i64,
    blob: Vec<u8>,
    ratio: f64,
}

#[test]
fn whole_floats_survive_buffering_containers() {
    // `Document<T>` flattens `T`: serde buffers its fields before `T` reads them.
    let doc: Document<Counted> = from_slice(DOCUMENT).unwrap();
    assert_eq!(doc.id.as_str(), "k1");
    assert_eq!(doc.creation_time, 1.5);
    assert_eq!(
        (doc.count, doc.big, doc.blob.as_slice()),
        (6, -1, &[0, 0x10, 0x83][..])
    );
    assert!(doc.ratio.is_nan());

    let list = format!("[{}, null]", std::str::from_utf8(DOCUMENT).unwrap());
    let docs: Vec<Option<Document<Counted>>> = from_slice(list.as_bytes()).unwrap();
    assert_eq!(docs[0].as_ref().unwrap().count, 6);
    assert!(docs[1].is_none());
    let docs: Vec<Document<Counted>> =
        from_slice(format!("[{0}, {0}]", std::str::from_utf8(DOCUMENT).unwrap()).as_bytes())
            .unwrap();
    assert_eq!(docs.len(), 2);

    #[derive(Debug, Deserialize)]
    #[serde(untagged)]
    enum Untagged {
        Counted(Counted),
    }
    let Untagged::Counted(counted) = from_slice(DOCUMENT).unwrap();
    assert_eq!((counted.count, counted.big), (6, -1));

    #[derive(Debug, Deserialize)]
    #[serde(tag = "kind", rename_all = "lowercase")]
    enum Tagged {
        Post(Counted),
    }
    let Tagged::Post(counted) = from_slice(DOCUMENT).unwrap();
    assert_eq!((counted.count, counted.blob.len()), (6, 3));

    #[derive(Debug, Deserialize)]
    #[serde(tag = "kind", content = "value")]
    enum Adjacent {
        Count(u8),
    }
    let Adjacent::Count(n) = from_slice(br#"{"value":7.0,"kind":"Count"}"#).unwrap();
    assert_eq!(n, 7);

    // A fraction is still refused, with serde's message.
    let fraction = std::str::from_utf8(DOCUMENT).unwrap().replace("6.0", "6.5");
    let err = from_slice::<Document<Counted>>(fraction.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("6.5"), "{err}");
}

#[test]
fn trailing_garbage_is_an_error() {
    assert!(from_slice::<serde_json::Value>(b"{} x").is_err());
}

proptest! {
    #[test]
    fn int64_round_trips(v in any::<i64>()) {
        let json = to_vec(&Int64(v)).unwrap();
        prop_assert_eq!(from_slice::<i64>(&json).unwrap(), v);
        prop_assert_eq!(from_slice::<Int64>(&json).unwrap(), Int64(v));
    }

    #[test]
    fn floats_round_trip_bit_for_bit(bits in any::<u64>()) {
        let v = f64::from_bits(bits);
        let back: f64 = from_slice(&to_vec(&v).unwrap()).unwrap();
        if v.is_nan() {
            prop_assert!(back.is_nan());
        } else {
            prop_assert_eq!(back.to_bits(), v.to_bits());
        }
    }

    #[test]
    fn bytes_round_trip(v in proptest::collection::vec(any::<u8>(), 0..256)) {
        let json = to_vec(&Bytes(v.clone())).unwrap();
        prop_assert_eq!(from_slice::<Vec<u8>>(&json).unwrap(), v.clone());
        prop_assert_eq!(from_slice::<Bytes>(&json).unwrap(), Bytes(v));
    }

    #[test]
    fn strings_round_trip(s in any::<String>()) {
        prop_assert_eq!(from_slice::<String>(&to_vec(&s).unwrap()).unwrap(), s);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(input in proptest::collection::vec(any::<u8>(), 0..128)) {
        let _ = from_slice::<serde_json::Value>(&input);
    }
}

#[test]
fn static_field_names_are_refused_every_time_and_remembered_only_once_valid() {
    #[derive(Serialize)]
    struct Bad {
        #[serde(rename = "$reserved")]
        x: u8,
    }
    #[derive(Serialize)]
    struct Good {
        ok: u8,
    }
    // A refused name is never remembered: the second value is refused too, on this thread and another.
    for _ in 0..2 {
        let err = to_vec(&Bad { x: 1 }).unwrap_err();
        assert!(err.to_string().contains("starts with `$`"), "{err}");
    }
    std::thread::spawn(|| assert!(to_vec(&Bad { x: 1 }).is_err()))
        .join()
        .unwrap();
    // Many values of one type, and of many types, encode the same with the names remembered.
    let many: Vec<Good> = (0..100).map(|ok| Good { ok }).collect();
    let text = encoded(&many);
    assert!(text.starts_with(r#"[{"ok":0},{"ok":1},"#) && text.ends_with(r#"{"ok":99}]"#));
    assert!(to_vec(&[Bad { x: 2 }]).is_err());
}
