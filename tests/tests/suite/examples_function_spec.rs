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

/// `examples/package.json`, which `npx convex deploy` installs from, pins the `convex` the tests run the
/// functions with (the Node server's).
#[test]
fn the_deployed_convex_version_is_the_tested_one() {
    let pinned = |path: &str| -> String {
        let text = std::fs::read_to_string(path).unwrap();
        let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
        manifest["dependencies"]["convex"]
            .as_str()
            .unwrap_or_else(|| panic!("{path} does not pin `convex`"))
            .to_owned()
    };
    let deployed = pinned(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/package.json"
    ));
    let tested = pinned(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testing/js/package.json"
    ));
    assert_eq!(
        deployed, tested,
        "examples/package.json and testing/js/package.json pin different `convex` versions"
    );
}
