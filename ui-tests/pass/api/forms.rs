//! `api!` from a committed spec: the generated stubs and their args structs. `specs/` is the package's, which
//! `tests/ui.rs` copies into the project trybuild builds the cases in.

use convex::ConvexFunction;

convex::api!("specs/posts.json");

/// The same spec through a re-export of the runtime, named with `crate = "…"`.
mod reexported {
    pub mod sdk {
        pub use ::convex as runtime;
    }
    convex::api!("specs/posts.json", crate = "crate::reexported::sdk::runtime");
}

fn main() {
    let call = api::posts::list(10.0);
    assert_eq!(call.function().path(), "posts:list");
    let json = convex::value::to_vec(&api::posts::ListArgs { limit: 2.0 }).unwrap();
    assert_eq!(json, br#"{"limit":2.0}"#);

    // A directory with a dot, and an export starting with `_` then a digit.
    let call = api::v1_api::feed::_1a();
    assert_eq!(call.function().path(), "v1.api/feed:_1a");
    assert_eq!(convex::value::to_vec(&api::v1_api::feed::T1aArgs {}).unwrap(), b"{}");

    let call = reexported::api::posts::list(1.0);
    assert_eq!(call.function().path(), "posts:list");

    // `v.any()` and a missing returns validator are the runtime's `value::Value`, under any crate name.
    fn returns_a_value<F: ConvexFunction<Output = convex::value::Value>>(_: &F) {}
    let call = api::stats::run(convex::value!({ n: 1i64 }));
    returns_a_value(call.function());
    let call = reexported::api::stats::run(convex::value::Value::Bytes(vec![1]));
    returns_a_value(call.function());
    let args = reexported::api::stats::RunArgs { payload: convex::value!([1i64]) };
    assert_eq!(
        convex::value::to_vec(&args).unwrap(),
        br#"{"payload":[{"$integer":"AQAAAAAAAAA="}]}"#
    );
}
