//! Properties of `value::Value` over arbitrary Convex values (every type, int64 extremes, NaN payloads, -0,
//! ±∞, bytes, nested arrays and objects): the encoding is the identity through a decode, and `api!` stubs
//! typed `v.any()` carry such values through the test deployment over HTTP without loss.
//!
//! 128 cases per property by default; `PROPTEST_CASES=5000 cargo test -p convex-fetch-tests --test
//! suite any_values::` runs more.

use std::sync::OnceLock;

use convex::Client;
use convex::value::{self, Value};
use convex_fetch_testing::{Ctx, TestDeployment};
use convex_fetch_tests::strategies::{convex_value, field_name};
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
