//! Properties of `value::Value` over arbitrary Convex values (every type, int64 extremes, NaN payloads, -0,
//! ±∞, bytes, nested arrays and objects): the encoding is the identity through a decode, and `api!` stubs
//! typed `v.any()` carry such values through the test deployment over HTTP without loss.
//!
//! 128 cases per property by default; `PROPTEST_CASES=5000 cargo test -p convex-fetch-tests --test
//! any_values` runs more.

use std::sync::OnceLock;

use convex::Client;
use convex::value::{self, Value};
use convex_fetch_testing::{Ctx, TestDeployment};
use proptest::prelude::*;
use proptest::test_runner::Config;

convex::api!("convex/any_spec.json");

fn config() -> Config {
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() {
        Config::default().cases
    } else {
        128
    };
    Config {
        cases,
        ..Config::default()
    }
}

/// Field names Convex accepts: printable ASCII not starting with `$`, at most 1024 characters.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z_][a-zA-Z0-9_]{0,8}",
        2 => "[ -#%-~][ -~]{0,12}",
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

fn convex_value() -> impl Strategy<Value = Value> {
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

/// The test deployment, with echo handlers written with `Value`, on a runtime of its own.
struct Echo {
    runtime: tokio::runtime::Runtime,
    _deployment: TestDeployment,
    client: Client,
}

fn echo() -> &'static Echo {
    static ECHO: OnceLock<Echo> = OnceLock::new();
    ECHO.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let deployment = runtime.block_on(
            TestDeployment::builder()
                .query("values:echo", |_ctx: Ctx, args: Value| async move {
                    Ok(args.get("value").cloned().unwrap_or_default())
                })
                .mutation("values:echoArgs", |_ctx: Ctx, args: Value| async move {
                    Ok(args)
                })
                .start(),
        );
        let client = deployment.client();
        Echo {
            runtime,
            _deployment: deployment,
            client,
        }
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn encode_decode_encode_is_the_identity_on_the_wire(v in convex_value()) {
        let wire = value::to_vec(&v).unwrap();
        let back: Value = value::from_slice(&wire).unwrap();
        prop_assert_eq!(&back, &v);
        prop_assert_eq!(value::to_vec(&back).unwrap(), wire.clone());
        // Through a JSON tree too: the Convex-encoded JSON holds everything.
        let tree: Value = value::from_value(serde_json::from_slice(&wire).unwrap()).unwrap();
        prop_assert_eq!(value::to_vec(&tree).unwrap(), wire);
    }

    #[test]
    fn an_any_stub_round_trips_values_through_the_deployment(v in convex_value()) {
        let echo = echo();
        let back = echo
            .runtime
            .block_on(async { api::values::echo(v.clone()).on(&echo.client).await })
            .unwrap();
        // Equality of `Value`s is equality of their encodings: NaN payloads and -0 included.
        prop_assert_eq!(&back, &v);
        prop_assert_eq!(value::to_vec(&back).unwrap(), value::to_vec(&v).unwrap());
    }

    #[test]
    fn untyped_args_and_results_round_trip_through_the_deployment(
        fields in proptest::collection::btree_map(field_name(), convex_value(), 0..6),
    ) {
        // A function without validators: any args object in, a `Value` out.
        let args = Value::Object(fields);
        let echo = echo();
        let back = echo
            .runtime
            .block_on(async { api::values::echo_args(args.clone()).on(&echo.client).await })
            .unwrap();
        prop_assert_eq!(&back, &args);
    }
}
