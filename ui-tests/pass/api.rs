//! `api!` from a committed spec: the generated stub and its args struct.

use convex::ConvexFunction;

// trybuild builds each case in target/tests/trybuild/<crate>/, four levels below the workspace.
convex::api!("../../../../ui-tests/specs/posts.json");

fn main() {
    let call = api::posts::list(10.0);
    assert_eq!(call.function().path(), "posts:list");
    let json = convex::value::to_vec(&api::posts::List { limit: 2.0 }).unwrap();
    assert_eq!(json, br#"{"limit":2.0}"#);
}
