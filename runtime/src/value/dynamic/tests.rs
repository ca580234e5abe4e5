use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};

use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Value;
use crate::value::{self, Bytes, Document, Int64};

fn encoded(v: &Value) -> String {
    String::from_utf8(value::to_vec(v).unwrap()).unwrap()
}

fn decoded(json: &str) -> Value {
    value::from_slice(json.as_bytes()).unwrap()
}

fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Object(fields.map(|(k, v)| (k.to_owned(), v)).into())
}

/// A NaN whose payload is not the one Rust and JavaScript produce by default.
fn odd_nan() -> f64 {
    f64::from_bits(0xfff0_0000_dead_beef)
}

#[test]
fn every_special_decodes_to_its_own_variant() {
    let wire = r#"{"big":{"$integer":"AAAAAAAAAIA="},"bytes":{"$bytes":"ABCD"},"empty":{"$bytes":""},"int":{"$integer":"BQAAAAAAAAA="},"nan":{"$float":"776t3gAA8P8="},"neg_inf":{"$float":"AAAAAAAA8P8="},"neg_zero":{"$float":"AAAAAAAAAIA="},"plain":5,"plain_float":5.0}"#;
    let v = decoded(wire);
    assert_eq!(
        v,
        object([
            ("big", Value::Int64(i64::MIN)),
            ("bytes", Value::Bytes(vec![0x00, 0x10, 0x83])),
            ("empty", Value::Bytes(vec![])),
            ("int", Value::Int64(5)),
            ("nan", Value::Float64(odd_nan())),
            ("neg_inf", Value::Float64(f64::NEG_INFINITY)),
            ("neg_zero", Value::Float64(-0.0)),
            ("plain", Value::Float64(5.0)),
            ("plain_float", Value::Float64(5.0)),
        ])
    );
    assert_eq!(
        v.get("nan").and_then(Value::as_f64).map(f64::to_bits),
        Some(0xfff0_0000_dead_beef),
        "the NaN payload is kept"
    );
    // Encoding gives back the wire bytes, but for the plain `5`, which a float64 writes as `5.0`.
    assert_eq!(
        encoded(&v),
        wire.replace(r#""plain":5,"#, r#""plain":5.0,"#)
    );
}

#[test]
fn the_losses_of_serde_json_value_do_not_happen() {
    // What an echo handler written with `serde_json::Value` cannot give back.
    let wire = r#"{"a":{"$integer":"AAAAAAAAAIA="},"i":{"$float":"AAAAAAAA8P8="},"n":{"$float":"AAAAAAAA+H8="},"z":{"$float":"AAAAAAAAAIA="},"five":{"$integer":"BQAAAAAAAAA="}}"#;
    let lossy: serde_json::Value = value::from_slice(wire.as_bytes()).unwrap();
    assert!(lossy["n"].is_null() && lossy["i"].is_null());
    assert_eq!(
        lossy["five"],
        json!(5),
        "an integer, that encodes as a float64"
    );
    let err = value::to_vec(&lossy).unwrap_err().to_string();
    assert!(err.contains("-9223372036854775808"), "{err}");
    let v = decoded(wire);
    assert_eq!(encoded(&v), decoded_sorted(wire));
    assert_eq!(v.get("five"), Some(&Value::Int64(5)));
}

/// `wire` with its top-level fields in Convex's order (by name).
fn decoded_sorted(wire: &str) -> String {
    let map: BTreeMap<String, serde_json::Value> = serde_json::from_str(wire).unwrap();
    serde_json::to_string(&map).unwrap()
}

#[test]
fn plain_numbers_are_float64_as_json_parse_reads_them() {
    assert_eq!(decoded("5"), Value::Float64(5.0));
    assert_eq!(decoded("-5"), Value::Float64(-5.0));
    assert_eq!(decoded("-0"), Value::Float64(-0.0));
    assert_eq!(decoded("1e300"), Value::Float64(1e300));
    // JavaScript writes the float64 nearest 12345678901234567890 with its shortest digits, as an integer
    // that is not exactly that float; reading it gives the float back.
    let js = 12_345_678_901_234_567_890f64;
    assert_eq!(decoded("12345678901234567000"), Value::Float64(js));
    assert_eq!(
        decoded("9007199254740993"),
        Value::Float64(9_007_199_254_740_992.0)
    );
    assert_eq!(
        decoded("123456789012345678901234567890"),
        Value::Float64(1.2345678901234568e29)
    );
    // The same under plain serde_json and from a serde_json tree.
    assert_eq!(
        serde_json::from_str::<Value>("-5").unwrap(),
        Value::Float64(-5.0)
    );
    assert_eq!(Value::from_json(json!(7)).unwrap(), Value::Float64(7.0));
}

#[test]
fn plain_serde_json_reads_and_writes_the_same_encoding() {
    let v = object([
        ("int", Value::Int64(-1)),
        ("nan", Value::Float64(f64::NAN)),
        ("zero", Value::Float64(-0.0)),
        ("blob", Value::Bytes(vec![0, 0x10, 0x83])),
        (
            "list",
            Value::Array(vec![Value::Null, Value::Boolean(true)]),
        ),
        ("text", Value::String("é\"\n".into())),
        ("x", Value::Float64(1.5)),
    ]);
    let ours = encoded(&v);
    assert_eq!(
        ours,
        r#"{"blob":{"$bytes":"ABCD"},"int":{"$integer":"//////////8="},"list":[null,true],"nan":{"$float":"AAAAAAAA+H8="},"text":"é\"\n","x":1.5,"zero":{"$float":"AAAAAAAAAIA="}}"#
    );
    assert_eq!(serde_json::to_string(&v).unwrap(), ours);
    assert_eq!(serde_json::from_str::<Value>(&ours).unwrap(), v);
    // `json!` serializes with serde_json's own serializer.
    assert_eq!(
        json!({ "v": v.clone() }).to_string(),
        format!(r#"{{"v":{ours}}}"#)
    );
    assert_eq!(Value::from_json(v.to_json().unwrap()).unwrap(), v);
}

#[test]
fn values_inside_typed_structs_keep_their_types() {
    #[derive(Debug, Deserialize, Serialize)]
    struct Row {
        data: Value,
        list: Vec<Value>,
        maybe: Option<Value>,
        map: BTreeMap<String, Value>,
        count: i64,
    }
    let wire = r#"{"data":{"$integer":"BQAAAAAAAAA="},"list":[5,{"$bytes":"AA=="}],"maybe":{"$float":"AAAAAAAAAIA="},"map":{"k":{"$integer":"AQAAAAAAAAA="}},"count":{"$integer":"BwAAAAAAAAA="}}"#;
    let row: Row = value::from_slice(wire.as_bytes()).unwrap();
    assert_eq!(row.data, Value::Int64(5));
    assert_eq!(
        row.list,
        [Value::Float64(5.0), Value::Bytes(vec![0])].to_vec()
    );
    assert_eq!(row.maybe, Some(Value::Float64(-0.0)));
    assert_eq!(row.map["k"], Value::Int64(1));
    assert_eq!(row.count, 7);
    let none: Row =
        value::from_slice(br#"{"data":null,"list":[],"maybe":null,"map":{},"count":1}"#).unwrap();
    assert_eq!((none.data, none.maybe), (Value::Null, None));

    let from_tree: Row = value::from_value(serde_json::from_str(wire).unwrap()).unwrap();
    assert_eq!(from_tree.data, Value::Int64(5));
    assert_eq!(from_tree.list[1], Value::Bytes(vec![0]));

    // And back out through the encoder, unchanged but for `5` written as `5.0` and the plain `i64`.
    let again = String::from_utf8(value::to_vec(&row).unwrap()).unwrap();
    assert_eq!(
        again,
        r#"{"data":{"$integer":"BQAAAAAAAAA="},"list":[5.0,{"$bytes":"AA=="}],"maybe":{"$float":"AAAAAAAAAIA="},"map":{"k":{"$integer":"AQAAAAAAAAA="}},"count":7}"#
    );
}

#[test]
fn buffered_values_read_what_the_buffer_kept_as_documented() {
    // `Document<T>` flattens `T`: serde buffers its fields, decoded, before `Value` sees them.
    let doc: Document<BTreeMap<String, Value>> = value::from_slice(
        br#"{"_id":"k1","_creationTime":1.5,"n":{"$integer":"BQAAAAAAAAA="},"b":{"$bytes":"AQ=="},"z":{"$float":"AAAAAAAAAIA="}}"#,
    )
    .unwrap();
    assert_eq!(doc.fields["n"], Value::Float64(5.0));
    assert_eq!(doc.fields["b"], Value::Array(vec![Value::Float64(1.0)]));
    assert_eq!(doc.fields["z"], Value::Float64(-0.0), "floats survive");
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    let cases: [(&str, &str); 12] = [
        (r#"{"$integer":"AQ=="}"#, "8 bytes"),
        (r#"{"$integer":"not base64!"}"#, "base64"),
        (r#"{"$integer":5}"#, "string"),
        (r#"{"$float":"AAAAAAAA8D8="}"#, "ordinary number"),
        (r#"{"$bytes":"ABCD","x":1}"#, "no other field"),
        (r#"{"$set":[]}"#, "obsolete"),
        (r#"{"$map":[]}"#, "obsolete"),
        (r#"{"$what":1}"#, "reserves"),
        (r#"{"a":1,"$b":2}"#, "reserves"),
        (r#"[{"é":1}]"#, "printable ASCII"),
        (r#"{"a":{"b":[{"$integer":""}]}}"#, "8 bytes"),
        (r#"{"a":1} x"#, "trailing"),
    ];
    for (json, expected) in cases {
        let err = value::from_slice::<Value>(json.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{json}: {err}");
        if !json.ends_with('x') {
            let plain = serde_json::from_str::<Value>(json).unwrap_err().to_string();
            assert!(plain.contains(expected), "plain {json}: {plain}");
        }
    }
    let long = format!(r#"{{"{}":1}}"#, "x".repeat(1025));
    assert!(value::from_slice::<Value>(long.as_bytes()).is_err());
}

#[test]
fn invalid_field_names_are_refused_when_encoding() {
    // An empty name too: the backend refuses it ("Field name cannot be empty"), although the official JS client
    // sends it.
    for name in ["", "$integer", "$x", "tab\t", "é", &"x".repeat(1025)] {
        let v = object([(name, Value::String("AQAAAAAAAAA=".into()))]);
        let err = value::to_vec(&v).unwrap_err().to_string();
        assert!(err.contains("field name"), "{name:?}: {err}");
        assert!(serde_json::to_string(&v).is_err(), "plain {name:?}");
        assert!(v.to_json().is_err());
    }
    assert!(value::to_vec(&object([("_id", Value::Null), (" ", Value::Null)])).is_ok());
}

#[test]
fn as_args_a_value_must_be_an_object() {
    let args = |v: &Value| {
        let mut out = Vec::new();
        value::encode_args(v, &mut out).map(|()| String::from_utf8(out).unwrap())
    };
    assert_eq!(
        args(&object([("n", Value::Int64(1))])).unwrap(),
        r#"{"n":{"$integer":"AQAAAAAAAAA="}}"#
    );
    assert_eq!(args(&Value::Null).unwrap(), "{}");
    for (v, what) in [
        (Value::Int64(1), "an int64"),
        (Value::Float64(f64::NAN), "a number"),
        (Value::Bytes(vec![1]), "bytes"),
        (Value::Array(vec![]), "an array"),
        (Value::String("x".into()), "a string"),
    ] {
        let err = args(&v).unwrap_err().to_string();
        assert!(
            err.contains("must be an object") && err.contains(what),
            "{err}"
        );
    }
}

#[test]
fn values_as_map_keys_must_be_strings() {
    let keyed = BTreeMap::from([(Value::Int64(1), 1.0)]);
    let err = value::to_vec(&keyed).unwrap_err().to_string();
    assert!(err.contains("keys must be strings, not an int64"), "{err}");
    let keyed = BTreeMap::from([(Value::String("k".into()), 1.0)]);
    assert_eq!(value::to_vec(&keyed).unwrap(), br#"{"k":1.0}"#);
}

#[test]
fn display_writes_the_dashboard_notation() {
    let cases: Vec<(Value, &str)> = vec![
        (Value::Null, "null"),
        (Value::Int64(5), "5n"),
        (Value::Int64(i64::MIN), "-9223372036854775808n"),
        (Value::Float64(5.0), "5"),
        (Value::Float64(-1.5), "-1.5"),
        (Value::Float64(-0.0), "-0"),
        (Value::Float64(0.0), "0"),
        (Value::Float64(f64::NAN), "NaN"),
        (Value::Float64(odd_nan()), "NaN"),
        (Value::Float64(f64::INFINITY), "Infinity"),
        (Value::Float64(f64::NEG_INFINITY), "-Infinity"),
        (Value::Float64(0.1 + 0.2), "0.30000000000000004"),
        (Value::Float64(1e21), "1e+21"),
        (Value::Float64(1.5e21), "1.5e+21"),
        (Value::Float64(123e18), "123000000000000000000"),
        (Value::Float64(0.000001), "0.000001"),
        (Value::Float64(0.0000015), "0.0000015"),
        (Value::Float64(1e-7), "1e-7"),
        (Value::Float64(-1.25e-10), "-1.25e-10"),
        (Value::Float64(5e-324), "5e-324"),
        (Value::Float64(f64::MAX), "1.7976931348623157e+308"),
        (Value::Float64(1_700_000_000_000.25), "1700000000000.25"),
        (Value::Boolean(false), "false"),
        (
            Value::String("a\"b\\c\n\u{1}é".into()),
            r#""a\"b\\c\n\u0001é""#,
        ),
        (Value::Bytes(vec![0, 0x10, 0x83]), r#"Bytes("ABCD")"#),
        (Value::Bytes(vec![]), r#"Bytes("")"#),
        (Value::Array(vec![]), "[]"),
        (
            Value::Array(vec![Value::Int64(1), Value::Float64(2.0)]),
            "[1n, 2]",
        ),
        (Value::Object(BTreeMap::new()), "{}"),
        (
            object([
                ("_id", Value::String("k1".into())),
                ("a b", Value::Null),
                ("class", Value::Null),
                ("x1$", Value::Object(BTreeMap::new())),
                ("1x", Value::Null),
            ]),
            r#"{ "1x": null, _id: "k1", "a b": null, "class": null, x1$: {} }"#,
        ),
    ];
    for (v, expected) in cases {
        assert_eq!(v.to_string(), expected, "{v:?}");
    }
}

#[test]
fn conversions_follow_the_documented_number_rule() {
    assert_eq!(Value::from(5i64), Value::Int64(5));
    assert_eq!(Value::from(Int64(-5)), Value::Int64(-5));
    assert_eq!(Value::from(5), Value::Float64(5.0), "an i32 is a float64");
    assert_eq!(Value::from(u32::MAX), Value::Float64(4_294_967_295.0));
    assert_eq!(Value::from(-3i8), Value::Float64(-3.0));
    assert_eq!(Value::from(1.5f32), Value::Float64(1.5));
    assert_eq!(Value::from(f64::NAN), Value::Float64(f64::NAN));
    assert_eq!(Value::from(true), Value::Boolean(true));
    assert_eq!(Value::from("x"), Value::String("x".into()));
    assert_eq!(Value::from(String::from("x")), Value::String("x".into()));
    assert_eq!(
        Value::from(value::Id::<()>::new("k1")),
        Value::String("k1".into())
    );
    assert_eq!(Value::from(Bytes(vec![1, 2])), Value::Bytes(vec![1, 2]));
    assert_eq!(
        Value::from(vec![1u8, 2]),
        Value::Array(vec![Value::Float64(1.0), Value::Float64(2.0)]),
        "a Vec<u8> is an array, as in serde"
    );
    assert_eq!(
        Value::from(BTreeMap::from([("k".to_owned(), 1i64)])),
        object([("k", Value::Int64(1))])
    );
    assert_eq!(Value::from(None::<i64>), Value::Null);
    assert_eq!(Value::from(Some("x")), Value::String("x".into()));
    assert_eq!(Value::from(()), Value::Null);
    assert_eq!(Value::default(), Value::Null);
}

#[test]
fn accessors_see_only_their_own_type() {
    let v = crate::value!({ i: 5i64, f: 5, s: "x", b: Bytes(vec![1]), a: [1], o: {}, t: true, n: null });
    assert_eq!(v.get("i").and_then(Value::as_i64), Some(5));
    assert_eq!(v.get("i").and_then(Value::as_f64), None, "no int64 → float");
    assert_eq!(v.get("f").and_then(Value::as_f64), Some(5.0));
    assert_eq!(v.get("f").and_then(Value::as_i64), None, "no float → int64");
    assert_eq!(v.get("s").and_then(Value::as_str), Some("x"));
    assert_eq!(v.get("b").and_then(Value::as_bytes), Some(&[1u8][..]));
    assert_eq!(v.get("a").and_then(Value::as_bytes), None);
    assert_eq!(v.get("a").and_then(Value::as_array).map(Vec::len), Some(1));
    assert!(v.get("o").and_then(Value::as_object).is_some());
    assert_eq!(v.get("t").and_then(Value::as_bool), Some(true));
    assert!(v.get("n").is_some_and(Value::is_null));
    assert_eq!(v.get("missing"), None);
    assert_eq!(Value::Int64(1).get("i"), None);
    let names: Vec<_> = v
        .as_object()
        .unwrap()
        .values()
        .map(Value::type_name)
        .collect();
    assert_eq!(
        names,
        [
            "array", "bytes", "float64", "int64", "null", "object", "string", "boolean"
        ]
    );

    let mut v = v;
    v.as_object_mut()
        .unwrap()
        .insert("new".into(), Value::Int64(2));
    v.as_object_mut()
        .unwrap()
        .get_mut("a")
        .unwrap()
        .as_array_mut()
        .unwrap()
        .push(Value::Null);
    assert_eq!(v.get("new"), Some(&Value::Int64(2)));
    assert_eq!(v.get("a").unwrap().to_string(), "[1, null]");
}

#[test]
fn clean_json_is_the_lossy_json_format() {
    let v = crate::value!({
        i: 42i64, neg: -1i64, b: Bytes(vec![0, 0x10, 0x83]), nan: f64::NAN, inf: f64::INFINITY,
        ninf: f64::NEG_INFINITY, z: -0.0, list: [1.5, 1i64], plain: { a: "b", c: null }, t: false,
    });
    let clean = v.to_clean_json();
    assert_eq!(
        clean,
        json!({
            "i": "42", "neg": "-1", "b": "ABCD", "nan": "NaN", "inf": "Infinity", "ninf": "-Infinity",
            "z": -0.0, "list": [1.5, "1"], "plain": {"a": "b", "c": null}, "t": false,
        })
    );
    assert!(clean["z"].as_f64().unwrap().is_sign_negative());
}

#[test]
fn json_trees_convert_both_ways() {
    let v = crate::value!({ i: 42i64, b: Bytes(vec![1]), z: -0.0, f: 2.5 });
    let tree = serde_json::Value::try_from(&v).unwrap();
    assert_eq!(
        tree,
        json!({"i": {"$integer": "KgAAAAAAAAA="}, "b": {"$bytes": "AQ=="}, "z": {"$float": "AAAAAAAAAIA="}, "f": 2.5})
    );
    assert_eq!(Value::try_from(tree.clone()).unwrap(), v);
    assert_eq!(serde_json::Value::try_from(v).unwrap(), tree);

    assert_eq!(
        Value::from_json(json!({"n": 5, "x": 5.5})).unwrap(),
        crate::value!({ n: 5, x: 5.5 })
    );
    assert_eq!(
        Value::from_json_integers_as_int64(
            json!({"n": 5, "neg": -5, "x": 5.0, "l": [1, {"m": 2}], "i": {"$integer": "AQAAAAAAAAA="}})
        )
        .unwrap(),
        crate::value!({ n: 5i64, neg: -5i64, x: 5, l: [1i64, { m: 2i64 }], i: 1i64 })
    );
    let err = Value::from_json_integers_as_int64(json!({"n": u64::MAX}))
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not fit an int64"), "{err}");
    assert!(Value::from_json_integers_as_int64(json!({"$set": []})).is_err());
    assert!(Value::from_json_integers_as_int64(json!({"a": 1, "$b": 2})).is_err());
    assert!(Value::from_json_integers_as_int64(json!([{"é": 1}])).is_err());
    assert!(Value::from_json(json!({"$integer": "AQ=="})).is_err());
}

#[test]
fn typed_values_convert_through_the_encoding() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Args {
        id: Int64,
        count: i64,
        blob: Bytes,
        ratio: f64,
    }
    let args = Args {
        id: Int64(i64::MAX),
        count: 3,
        blob: Bytes(vec![9]),
        ratio: f64::NEG_INFINITY,
    };
    let v = Value::from_serialize(&args).unwrap();
    assert_eq!(
        v,
        crate::value!({ id: i64::MAX, count: 3, blob: Bytes(vec![9]), ratio: f64::NEG_INFINITY })
    );
    let back: Args = v.deserialize_into().unwrap();
    assert_eq!(back, args);

    assert!(Value::from_serialize(&u64::MAX).is_err(), "beyond 2^53");
    let err = crate::value!({ count: "x" })
        .deserialize_into::<Args>()
        .unwrap_err();
    assert!(err.to_string().contains("invalid type"), "{err}");
}

#[test]
fn equality_and_order_are_by_convex_rules() {
    assert_eq!(Value::Float64(f64::NAN), Value::Float64(f64::NAN));
    assert_ne!(Value::Float64(f64::NAN), Value::Float64(odd_nan()));
    assert_ne!(Value::Float64(-0.0), Value::Float64(0.0));
    assert_ne!(Value::Int64(1), Value::Float64(1.0));
    assert_ne!(
        Value::Bytes(vec![1]),
        Value::Array(vec![Value::Float64(1.0)])
    );

    let ascending = [
        Value::Null,
        Value::Int64(i64::MIN),
        Value::Int64(7),
        Value::Float64(-f64::NAN),
        Value::Float64(f64::NEG_INFINITY),
        Value::Float64(-1.0),
        Value::Float64(-0.0),
        Value::Float64(0.0),
        Value::Float64(f64::INFINITY),
        Value::Float64(f64::NAN),
        Value::Boolean(false),
        Value::Boolean(true),
        Value::String(String::new()),
        Value::String("Z".into()),
        Value::String("a".into()),
        Value::String("é".into()),
        Value::Bytes(vec![]),
        Value::Bytes(vec![0xff]),
        Value::Array(vec![]),
        Value::Array(vec![Value::Null, Value::Null]),
        Value::Array(vec![Value::Int64(0)]),
        Value::Object(BTreeMap::new()),
        object([("a", Value::Int64(1))]),
        object([("a", Value::Int64(2))]),
        object([("b", Value::Null)]),
    ];
    for pair in ascending.windows(2) {
        assert!(pair[0] < pair[1], "{:?} < {:?}", pair[0], pair[1]);
    }
    let hasher = RandomState::new();
    assert_eq!(
        hasher.hash_one(Value::Float64(f64::NAN)),
        hasher.hash_one(Value::Float64(f64::NAN))
    );
}

#[test]
fn the_literal_macro_reads_like_the_dashboard() {
    let name = "ada";
    let n = 3i64;
    let v = crate::value!({
        name,
        n,
        "with space": [null, [], {}, [1, [2i64]], { deep: { deeper: -1.5 } },],
        bare: null,
        expr: 2.0 * 3.0,
        neg: -5i64,
        opt: Some(1),
        nested: crate::value!([true]),
    });
    assert_eq!(
        v.to_string(),
        r#"{ bare: null, expr: 6, n: 3n, name: "ada", neg: -5n, nested: [true], opt: 1, "with space": [null, [], {}, [1, [2n]], { deep: { deeper: -1.5 } }] }"#
    );
    assert_eq!(crate::value!(null), Value::Null);
    assert_eq!(crate::value!([]), Value::Array(vec![]));
    assert_eq!(crate::value!({}), Value::Object(BTreeMap::new()));
    assert_eq!(crate::value!(5), Value::Float64(5.0));
    assert_eq!(crate::value!(-5i64), Value::Int64(-5));
    assert_eq!(crate::value!("x"), Value::String("x".into()));
    assert_eq!(crate::value!([1, 2,]).as_array().map(Vec::len), Some(2));
}

// ---------------------------------------------------------------------------------------------------------
// Properties over arbitrary values.

fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z_][a-zA-Z0-9_]{0,8}",
        "[ -#%-~][ -~]{0,10}",
        "[0-9]{1,3}",
    ]
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        any::<u64>().prop_map(f64::from_bits),
        (-1000i32..1000).prop_map(f64::from),
        prop_oneof![
            Just(-0.0),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(f64::MIN_POSITIVE),
            Just(5e-324),
            Just(f64::MAX),
        ],
    ]
}

pub(super) fn arbitrary_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::Int64),
        float().prop_map(Value::Float64),
        any::<bool>().prop_map(Value::Boolean),
        any::<String>().prop_map(Value::String),
        proptest::collection::vec(any::<u8>(), 0..24).prop_map(Value::Bytes),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(field_name(), inner, 0..6).prop_map(Value::Object),
        ]
    })
}

proptest! {
    #[test]
    fn encode_decode_encode_is_the_identity(v in arbitrary_value()) {
        let wire = value::to_vec(&v).unwrap();
        let back: Value = value::from_slice(&wire).unwrap();
        prop_assert_eq!(&back, &v);
        prop_assert_eq!(value::to_vec(&back).unwrap(), wire.clone());
        // Plain serde_json writes and reads the same bytes.
        prop_assert_eq!(serde_json::to_vec(&v).unwrap(), wire.clone());
        prop_assert_eq!(&serde_json::from_slice::<Value>(&wire).unwrap(), &v);
        // And so do the JSON tree conversions.
        prop_assert_eq!(&Value::from_json(v.to_json().unwrap()).unwrap(), &v);
        prop_assert_eq!(&value::from_value::<Value>(serde_json::from_slice(&wire).unwrap()).unwrap(), &v);
    }

    #[test]
    fn equal_values_have_equal_encodings_and_hashes(a in arbitrary_value(), b in arbitrary_value()) {
        let same_wire = value::to_vec(&a).unwrap() == value::to_vec(&b).unwrap();
        prop_assert_eq!(a == b, same_wire);
        prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        // A value read back from its encoding is equal and hashes the same.
        let back: Value = value::from_slice(&value::to_vec(&a).unwrap()).unwrap();
        let hasher = RandomState::new();
        prop_assert_eq!(&back, &a);
        prop_assert_eq!(hasher.hash_one(&back), hasher.hash_one(&a));
    }

    #[test]
    fn display_numbers_read_back_as_the_same_float(bits in any::<u64>()) {
        let x = f64::from_bits(bits);
        let shown = Value::Float64(x).to_string();
        if x.is_finite() {
            prop_assert_eq!(shown.parse::<f64>().unwrap().to_bits(), x.to_bits());
        }
    }

    #[test]
    fn decoding_arbitrary_text_never_panics(input in proptest::collection::vec(any::<u8>(), 0..128)) {
        let _ = value::from_slice::<Value>(&input);
        let _ = serde_json::from_slice::<Value>(&input);
    }

    #[test]
    fn decoding_arbitrary_json_never_panics(text in r#"[\[\]{}",:0-9a-z$ ]{0,64}"#) {
        let _ = value::from_slice::<Value>(text.as_bytes());
    }
}
