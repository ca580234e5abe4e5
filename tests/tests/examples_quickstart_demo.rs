//! A binary of its own: the quick start installs the process-wide default client, which is set once.
//!
//! The quick start against the Rust demo deployment, which `cargo run -p examples --example quickstart`
//! falls back to when Node.js or the Node server's packages are missing.

use examples::{demo, quickstart};

#[tokio::test]
async fn the_quickstart_runs_against_the_rust_demo_deployment() {
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
    assert_eq!(deployment.executions("tasks:complete"), 1);
}
