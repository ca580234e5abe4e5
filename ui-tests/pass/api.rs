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
    let json = convex::value::to_vec(&api::posts::List { limit: 2.0 }).unwrap();
    assert_eq!(json, br#"{"limit":2.0}"#);

    // A directory with a dot, and an export starting with `_` then a digit.
    let call = api::v1_api::feed::_1a();
    assert_eq!(call.function().path(), "v1.api/feed:_1a");
    assert_eq!(convex::value::to_vec(&api::v1_api::feed::T1a {}).unwrap(), b"{}");

    let call = reexported::api::posts::list(1.0);
    assert_eq!(call.function().path(), "posts:list");
}
