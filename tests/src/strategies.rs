//! proptest strategies for arbitrary Convex values, with the values that travel specially drawn often.

use convex::value::Value;
use proptest::prelude::*;

/// Field names Convex accepts: printable ASCII, not empty, not starting with `$`, at most 1024 characters.
pub fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z_][a-zA-Z0-9_]{0,8}",
        2 => "[ -#%-~][ -~]{0,12}",
        // Integer-like names, which a JS object orders before the others.
        1 => "[0-9]{1,3}",
        // Not the empty name: the backend refuses it, and so does the encoder.
        1 => Just(" ".to_owned()),
        1 => Just("_id".to_owned()),
        1 => Just("x".repeat(1024)),
    ]
}

fn int64() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => any::<i64>(),
        1 => prop_oneof![
            Just(i64::MIN),
            Just(i64::MAX),
            Just(0),
            Just(-1),
            Just(1 << 53),
            Just((1 << 53) + 1),
        ],
    ]
}

/// Any float64 bit pattern, with the ones that travel specially (NaNs with payloads, -0, ±∞) often.
fn float64() -> impl Strategy<Value = f64> {
    prop_oneof![
        2 => any::<u64>().prop_map(f64::from_bits),
        2 => any::<f64>(),
        1 => (-1000i32..1000).prop_map(f64::from),
        1 => any::<u64>().prop_map(|payload| f64::from_bits(0x7ff0_0000_0000_0001 | (payload & 0x800f_ffff_ffff_ffff))),
        1 => prop_oneof![
            Just(-0.0),
            Just(0.0),
            Just(f64::NAN),
            Just(-f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(f64::MIN_POSITIVE),
            Just(5e-324),
            Just(f64::MAX),
            Just(9_007_199_254_740_993.0),
        ],
    ]
}

pub fn convex_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        int64().prop_map(Value::Int64),
        float64().prop_map(Value::Float64),
        any::<bool>().prop_map(Value::Boolean),
        any::<String>().prop_map(Value::String),
        proptest::collection::vec(any::<u8>(), 0..32).prop_map(Value::Bytes),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(field_name(), inner, 0..6).prop_map(Value::Object),
        ]
    })
}
