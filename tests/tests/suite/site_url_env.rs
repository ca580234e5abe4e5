//! The default client reads the site URL from `CONVEX_SITE_URL`: each case runs this binary again as a child
//! with its own environment, since the environment is process-wide (and changing it in-process is `unsafe`).

use convex::Client;
use convex_fetch_testing::TestDeployment;

/// In the child: what `Client::from_env` and the default client make of the environment, and a test
/// deployment's client's site URL.
fn child() {
    match Client::from_env() {
        Ok(client) => println!("CHILD-SITE: {}", client.site_url()),
        Err(err) => return println!("CHILD-ERROR: {err}"),
    }
    println!(
        "CHILD-DEFAULT: {}",
        convex::default_client().unwrap().site_url()
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let deployment = TestDeployment::builder().start().await;
        let same = deployment.client().site_url() == deployment.site_url();
        println!("CHILD-TEST-DEPLOYMENT-KEEPS-ITS-OWN: {same}");
    });
}

fn run_with(site: Option<&str>) -> String {
    let mut command = crate::support::rerun(
        module_path!(),
        "the_site_url_comes_from_the_environment_when_set",
    );
    command.env("SITE_URL_ENV_CHILD", "1");
    command.env("CONVEX_URL", "https://happy-otter-123.convex.cloud");
    match site {
        Some(site) => command.env("CONVEX_SITE_URL", site),
        None => command.env_remove("CONVEX_SITE_URL"),
    };
    crate::support::stdout_of(&mut command)
}

#[test]
fn the_site_url_comes_from_the_environment_when_set() {
    if std::env::var_os("SITE_URL_ENV_CHILD").is_some() {
        return child();
    }
    // Unset or blank: derived from the deployment URL.
    for site in [None, Some("  ")] {
        let out = run_with(site);
        assert!(
            out.contains("CHILD-SITE: https://happy-otter-123.convex.site\n"),
            "{out}"
        );
        assert!(
            out.contains("CHILD-DEFAULT: https://happy-otter-123.convex.site\n"),
            "{out}"
        );
    }
    // Set: a custom domain for HTTP actions, trailing slash trimmed, for `from_env` and the default client;
    // a test deployment's client keeps the test deployment's own site URL.
    let out = run_with(Some("https://hooks.example.com/"));
    assert!(
        out.contains("CHILD-SITE: https://hooks.example.com\n"),
        "{out}"
    );
    assert!(
        out.contains("CHILD-DEFAULT: https://hooks.example.com\n"),
        "{out}"
    );
    assert!(
        out.contains("CHILD-TEST-DEPLOYMENT-KEEPS-ITS-OWN: true\n"),
        "{out}"
    );
    // Invalid: a configuration error naming the variable.
    let out = run_with(Some("ftp://files.example.com"));
    assert!(out.contains("CHILD-ERROR: "), "{out}");
    assert!(
        out.contains("CONVEX_SITE_URL: `ftp://files.example.com` is not a valid site URL"),
        "{out}"
    );
}
