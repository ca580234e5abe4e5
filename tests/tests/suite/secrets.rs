//! Auth tokens and admin keys never reach logs, error messages, `Debug` output or verbose output, on success
//! and on failure.

use std::io::Write;

use convex::{Client, FetchOptions, RetryPolicy};
use convex_fetch_testing::{Ctx, Fault, TestDeployment};
use serde_json::{Value, json};

use crate::support::{self, Logs};

const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.TOKEN-SECRET-7f3a.sig";
const ADMIN_KEY: &str = "prod:happy-otter-123|ADMIN-SECRET-91bc";
const SECRETS: [&str; 3] = ["TOKEN-SECRET", "ADMIN-SECRET", "eyJhbGci"];

fn assert_no_secret(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows `{secret}`:\n{text}");
    }
}

async fn deployment() -> TestDeployment {
    TestDeployment::builder()
        .query("users:me", |ctx: Ctx, _args: Value| async move {
            ctx.log("looking up the caller");
            Ok(ctx.identity().cloned())
        })
        .admin_key(ADMIN_KEY)
        .token(TOKEN, json!({ "subject": "user_1" }))
        .start()
        .await
}

#[tokio::test]
async fn secrets_stay_out_of_logs_errors_and_debug() {
    let (captured, _capturing) = Logs::capture();

    let deployment = deployment().await;
    let client = Client::builder(deployment.url())
        .auth(TOKEN)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let mut shown = vec![format!("{client:?}")];

    // Success with the client's default token, and with a per-call admin key.
    let me: Option<Value> = client.query("users:me", json!({})).await.unwrap();
    assert_eq!(me, Some(json!({ "subject": "user_1" })));
    let call = deployment
        .client()
        .query::<_, Value>("users:me", json!({}))
        .admin_key(ADMIN_KEY);
    shown.push(format!("{call:?}"));
    call.await.unwrap();

    // Failures: a refused token, a server error, a dropped connection.
    let refused = client
        .query::<_, Value>("users:me", json!({}))
        .auth(format!("{TOKEN}x"))
        .await
        .unwrap_err();
    deployment.fail_next(1, Fault::html(500, "<h1>oops</h1>"));
    let server = client
        .query::<_, Value>("users:me", json!({}))
        .await
        .unwrap_err();
    deployment.fail_next(1, Fault::DropConnection);
    let dropped = client
        .query::<_, Value>("users:me", json!({}))
        .await
        .unwrap_err();
    for err in [&refused, &server, &dropped] {
        shown.push(format!("{err}"));
        shown.push(format!("{err:?}"));
    }
    shown.push(format!("{:?}", FetchOptions::new().auth(TOKEN)));
    shown.push(format!("{:?}", FetchOptions::new().admin_key(ADMIN_KEY)));
    shown.push(format!("{:?}", deployment.calls()));

    for text in &shown {
        assert_no_secret("Debug/Display", text);
    }
    let logs = captured.text();
    assert!(logs.contains("convex_call"), "calls are traced: {logs}");
    assert!(
        logs.contains("looking up the caller"),
        "function logs are emitted: {logs}"
    );
    assert_no_secret("the logs", &logs);
}

/// Runs in a child process (below) so that its stderr can be read.
async fn verbose_calls() {
    let deployment = deployment().await;
    let client = deployment.client();
    let _: Option<Value> = client
        .query("users:me", json!({ "n": 1 }))
        .auth(TOKEN)
        .verbose()
        .await
        .unwrap();
    let _ = client
        .query::<_, Value>("users:me", json!({}))
        .admin_key("wrong-ADMIN-SECRET")
        .verbose()
        .await;
    std::io::stderr().flush().unwrap();
}

#[test]
fn verbose_output_has_the_seed_lines_and_no_secret() {
    if std::env::var_os("VERBOSE_CHILD").is_some() {
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(verbose_calls());
        return;
    }
    let out = support::rerun(
        module_path!(),
        "verbose_output_has_the_seed_lines_and_no_secret",
    )
    .arg("--test-threads=1")
    .env("VERBOSE_CHILD", "1")
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(r#"[fetchQuery] users:me: Starting { args: {"n":1}, hasAuth: true }"#),
        "{stderr}"
    );
    assert!(
        stderr.contains(r#"[fetchQuery] users:me: Success {"subject":"user_1"}"#),
        "{stderr}"
    );
    assert!(stderr.contains("[fetchQuery] users:me: Error"), "{stderr}");
    assert_no_secret("verbose output", &stderr);
}
