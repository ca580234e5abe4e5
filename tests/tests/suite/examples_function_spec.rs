//! The committed `examples/convex/function_spec.json`, which `api!` reads to generate
//! `examples::generated`, is the spec the TypeScript functions of `examples/convex` give today.

/// Through the helper users call for their own spec; it names the variable that rewrites the file.
#[tokio::test]
async fn the_committed_function_spec_is_the_functions_spec() {
    let committed = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/convex/function_spec.json"
    );
    convex_fetch_testing::js::check_function_spec(examples::local::CONVEX_DIR, committed)
        .await
        .unwrap();
}

/// A stale spec is an error that says how to rewrite it.
#[tokio::test]
async fn a_stale_spec_is_an_error_that_says_how_to_rewrite_it() {
    let dir = std::env::temp_dir().join(format!("convex-fetch-stale-spec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("function_spec.json");
    std::fs::write(
        &file,
        r#"{"url": "https://x.convex.cloud", "functions": []}"#,
    )
    .unwrap();
    let err = convex_fetch_testing::js::check_function_spec(examples::local::CONVEX_DIR, &file)
        .await
        .unwrap_err();
    assert!(
        matches!(err, convex_fetch_testing::JsError::StaleSpec { .. })
            && err.to_string().contains("CONVEX_UPDATE_SPEC=1"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
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
