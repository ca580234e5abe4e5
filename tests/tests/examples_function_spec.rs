//! The committed `examples/convex/function_spec.json`, which `api!` reads to generate
//! `examples::generated`, is the spec the TypeScript functions of `examples/convex` give today.

/// The `url` the committed spec names.
const SPEC_URL: &str = "https://happy-otter-123.convex.cloud";

#[tokio::test]
async fn the_committed_function_spec_is_the_functions_spec() {
    let committed_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/convex/function_spec.json"
    );
    let committed = std::fs::read_to_string(committed_path).unwrap();
    let current = convex_fetch_testing::js::function_spec_at(examples::local::CONVEX_DIR, SPEC_URL)
        .await
        .unwrap();
    assert!(
        committed == current,
        "examples/convex/function_spec.json is stale: the functions of examples/convex now give another \
         spec. Regenerate it with `npm run spec:examples --prefix testing/js`, then rebuild: \
         `examples::generated` follows it.\n--- committed\n{committed}\n--- current\n{current}"
    );
}
