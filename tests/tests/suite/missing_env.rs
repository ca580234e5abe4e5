//! The default client comes from `CONVEX_URL`: when it is missing or invalid, a call fails with a `Config`
//! error that says what to do, never a panic. Each case runs this binary again with its own environment, since
//! the default client is process-wide (and changing the environment in-process is `unsafe`).

#[convex::query("posts:list")]
pub async fn list_posts() -> Vec<String>;

/// In the child: check the default client at start-up, then call the stub on it, and print the errors.
fn child() {
    match convex::init() {
        Ok(client) => return println!("CHILD-INIT-OK: {}", client.url()),
        Err(err) => println!("CHILD-INIT: {err}"),
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let err = runtime.block_on(async { list_posts().await }).unwrap_err();
    assert!(
        matches!(err.kind(), convex::ErrorKind::Config { .. }),
        "{err:?}"
    );
    println!("CHILD-ERROR: {err}");
}

fn run_with(url: Option<&str>) -> String {
    let mut command = crate::support::rerun(
        module_path!(),
        "calls_without_a_usable_convex_url_fail_with_config_errors",
    );
    command.env("MISSING_ENV_CHILD", "1");
    match url {
        Some(url) => command.env("CONVEX_URL", url),
        None => command.env_remove("CONVEX_URL"),
    };
    crate::support::stdout_of(&mut command)
}

#[test]
fn calls_without_a_usable_convex_url_fail_with_config_errors() {
    if std::env::var_os("MISSING_ENV_CHILD").is_some() {
        return child();
    }
    let missing = run_with(None);
    assert!(
        missing.contains(
            "CHILD-ERROR: convex-fetch is not configured correctly: CONVEX_URL is not set"
        ),
        "{missing}"
    );
    assert!(
        missing.contains("set_default_client"),
        "it says what to do: {missing}"
    );
    // `init` says the same at start-up, before any call.
    assert!(
        missing.contains(
            "CHILD-INIT: convex-fetch is not configured correctly: CONVEX_URL is not set"
        ),
        "{missing}"
    );
    let fine = run_with(Some("https://happy-otter-123.convex.cloud/"));
    assert!(
        fine.contains("CHILD-INIT-OK: https://happy-otter-123.convex.cloud\n"),
        "{fine}"
    );

    let invalid = run_with(Some("ftp://happy-otter-123.convex.cloud"));
    assert!(
        invalid.contains("must start with http:// or https://"),
        "{invalid}"
    );

    let site = run_with(Some("https://happy-otter-123.convex.site"));
    assert!(site.contains(".convex.site"), "{site}");
}
