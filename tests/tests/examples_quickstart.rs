//! The quick start's calls, as `cargo run -p examples --example quickstart` makes them, against the demo
//! deployment.
//!
//! One test only: the quick start uses the process-wide default client, which is installed once.

use examples::{demo, quickstart};

#[tokio::test]
async fn the_quickstart_runs_against_the_demo_deployment() {
    let deployment = demo::start().await;
    convex::set_default_client(deployment.client()).unwrap();

    let mut out = Vec::new();
    quickstart::run(&mut out, Some(demo::DEMO_USER_TOKEN))
        .await
        .unwrap();
    let out = String::from_utf8(out).unwrap();
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
