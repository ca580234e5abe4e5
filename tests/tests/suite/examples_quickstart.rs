//! The quick start's calls, as `cargo run -p examples --example quickstart` makes them, against the
//! TypeScript functions of `examples/convex`, and against the Rust demo deployment it falls back to
//! without Node.js. The quick start installs the process-wide default client, which is set once: each test
//! runs in a process of its own (`support::alone`).

use examples::{demo, quickstart};

/// What the quick start prints with the demo user's token, `client` installed as the default client.
async fn run_on_the_default_client(client: convex::Client) -> String {
    convex::set_default_client(client).unwrap();
    let mut out = Vec::new();
    quickstart::run(&mut out, Some(demo::DEMO_USER_TOKEN))
        .await
        .unwrap();
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn the_quickstart_runs_against_the_typescript_functions() {
    if !crate::support::alone(
        module_path!(),
        "the_quickstart_runs_against_the_typescript_functions",
    ) {
        return;
    }
    let deployment = examples::local::start().await.unwrap();
    let out = run_on_the_default_client(deployment.client()).await;
    // The new task's id is convex-test's: digits, then its table.
    let created = out
        .lines()
        .find_map(|line| line.strip_prefix("mutation tasks:create      → "))
        .unwrap_or_default();
    assert!(
        created.ends_with("tasks")
            && created[..created.len() - 5]
                .bytes()
                .all(|b| b.is_ascii_digit()),
        "{out}"
    );
    for expected in [
        "tasks:complete    → done",
        "6/2025: 2 posts published, 1 tasks completed",
        "Ada (user_1), from the token",
        "ConvexError EMPTY_TEXT: \"a task needs some text\", which a handler answers with 400 Bad Request",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    let paths: Vec<String> = deployment
        .calls()
        .into_iter()
        .map(|call| call.path)
        .collect();
    assert_eq!(
        paths,
        [
            "posts:list",
            "tasks:create",
            "tasks:complete",
            "reports:generate",
            "users:me",
            "tasks:create"
        ]
    );

    // Without a token, the authenticated call is skipped.
    let mut out = Vec::new();
    quickstart::run(&mut out, None).await.unwrap();
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("skipped: set CONVEX_AUTH_TOKEN")
    );
}

/// The Rust demo deployment, which the quick start falls back to when Node.js or the Node server's packages
/// are missing.
#[tokio::test]
async fn the_quickstart_runs_against_the_rust_demo_deployment() {
    if !crate::support::alone(
        module_path!(),
        "the_quickstart_runs_against_the_rust_demo_deployment",
    ) {
        return;
    }
    let deployment = demo::start().await;
    let out = run_on_the_default_client(deployment.client()).await;
    for expected in [
        r#"2 published posts: ["Hello, Convex", "Typed calls from Rust"]"#,
        "tasks:create      → task_3",
        "tasks:complete    → done",
        "6/2025: 2 posts published, 1 tasks completed",
        "Ada (user_1), from the token",
        "ConvexError EMPTY_TEXT: \"a task needs some text\", which a handler answers with 400 Bad Request",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    assert_eq!(deployment.executions("tasks:complete"), 1);
}
