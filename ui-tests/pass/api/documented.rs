//! `api!` output in a crate that denies missing docs and every warning: each generated item is documented,
//! and no field starts with `_` (`_id` is `id`, `_creationTime` is `creation_time`, with the wire names kept).
#![deny(missing_docs, warnings)]

/// A type of the caller's, set as the output of a function that declares none.
#[derive(Debug, serde::Deserialize)]
pub struct Stats {
    /// How many.
    pub count: i64,
}

convex::api!("specs/shapes.json", returns { "stats:default" => Stats });

/// The same under another module, with the posts spec.
pub mod posts {
    convex::api!("specs/posts.json");
}

fn main() {
    use convex::ConvexFunction;
    let call = api::stats::default_();
    fn stats<F: ConvexFunction<Output = Stats>>(_: &F) {}
    stats(call.function());
    let json = br#"{"_id": "m1", "_creationTime": 1.5, "priority": 3}"#;
    let item: api::messages::ListOutputPageItem = convex::value::from_slice(json).unwrap();
    assert_eq!((item.id.as_str(), item.creation_time), ("m1", 1.5));
    assert_eq!(item.priority, api::messages::ListOutputPageItemPriority::V3);
    let _ = posts::api::posts::list(1.0);
}
