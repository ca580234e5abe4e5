//! Live-query conformance of the test deployment's sync WebSocket: the official JS `ConvexClient`
//! (`tests/js/live.mjs`, npm `convex` pinned in `tests/js/package-lock.json`) runs its scenarios against a
//! `TestDeployment`, and our Rust client runs the same ones against another, with the same outcomes.
//!
//! The JS half needs Node.js; the pinned client is installed from the lockfile when missing (never a skip).

use crate::support::{Messages, message_board, next_item as next};
use convex::value::Value;
use convex::{Client, ConnectionState, Error, ErrorKind, LiveProblem, LiveSettings};
use convex_fetch_testing::{Ctx, FunctionError, TestDeployment};
use serde_json::json;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

const TOKEN: &str = "live-conformance-token";

/// The deployment both clients run against; `drop` is notified by `control:dropSockets`.
async fn start(drop: Arc<Notify>) -> Arc<TestDeployment> {
    let deployment = message_board()
        .mutation("control:dropSockets", move |_ctx: Ctx, _: Value| {
            let drop = drop.clone();
            async move {
                drop.notify_one();
                Ok(())
            }
        })
        .action(
            "actions:echo",
            |_ctx: Ctx, args: Value| async move { Ok(args) },
        )
        .query("errors:convex", |_ctx: Ctx, _: Value| async move {
            Err::<(), _>(FunctionError::convex(json!({ "code": "NOPE" })))
        })
        .query("auth:whoami", |ctx: Ctx, _: Value| async move {
            Ok(ctx.identity().map(|i| i["subject"].clone()))
        })
        .token(
            TOKEN,
            json!({ "subject": "user_1", "issuer": "https://auth.example.com" }),
        )
        .start()
        .await;
    Arc::new(deployment)
}

/// Drops every socket of `deployment` each time `drop` is notified.
fn dropper(deployment: &Arc<TestDeployment>, drop: Arc<Notify>) {
    let deployment = Arc::downgrade(deployment);
    tokio::spawn(async move {
        loop {
            drop.notified().await;
            // Let the mutation's answer go out first, as a real outage would strike at any point.
            tokio::time::sleep(Duration::from_millis(20)).await;
            match deployment.upgrade() {
                Some(deployment) => deployment.drop_sync_connections(),
                None => return,
            }
        }
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn official_js_client_runs_live_queries_against_the_test_deployment() {
    let drop = Arc::new(Notify::new());
    let deployment = start(drop.clone()).await;
    dropper(&deployment, drop);
    let url = deployment.url().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(convex_fetch_tests::js_client_dir().join("live.mjs"))
            .args([&url, TOKEN])
            .current_dir(convex_fetch_tests::js_client_dir())
            .output()
    })
    .await
    .unwrap()
    .expect("node runs (install Node.js 20 or later)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success() && stdout.contains("scenarios passed") && !stdout.contains("FAIL"),
        "the official JS client disagrees with the test deployment\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
    );
    // The JS client's path, and its session kept across the reconnect.
    let messages = deployment.sync_messages();
    let dropped = deployment.executions("control:dropSockets");
    // Once for each of the two scenarios that drop the sockets.
    assert_eq!(dropped, 2, "each drop mutation ran once");
    let mutations: Vec<_> = messages
        .iter()
        .filter(|m| m["type"] == "Mutation" && m["udfPath"] == "messages:send")
        .collect();
    assert!(!mutations.is_empty());
    assert_eq!(
        deployment.state::<Messages>().unwrap().0,
        ["from js", "after drop"]
    );
}

fn client(deployment: &TestDeployment) -> Client {
    Client::builder(deployment.url())
        .live(LiveSettings::default().initial_backoff(Duration::from_millis(50)))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rust_client_runs_the_same_scenarios() {
    let drop = Arc::new(Notify::new());
    let deployment = start(drop.clone()).await;
    dropper(&deployment, drop);
    let client = client(&deployment);

    // on_update_first_value
    let mut list = client
        .query::<_, Vec<String>>("messages:list", json!({}))
        .subscribe();
    assert!(next(&mut list).await.unwrap().is_empty());

    // mutation_then_update: resolved only once the subscription shows the write.
    let result: String = client
        .mutation("messages:send", json!({ "body": "from js" }))
        .over_socket()
        .await
        .unwrap();
    assert_eq!(result, "from js");
    assert_eq!(next(&mut list).await.unwrap(), ["from js"]);

    // action
    let echoed: Value = client
        .action("actions:echo", json!({ "x": convex::value::Int64(1) }))
        .over_socket()
        .await
        .unwrap();
    assert_eq!(echoed, convex::value!({ x: convex::value::Int64(1) }));

    // failing_query_convex_error
    let mut failing = client
        .query::<_, ()>("errors:convex", json!({}))
        .subscribe();
    let err = next(&mut failing).await.unwrap_err();
    assert_eq!(
        err.data::<serde_json::Value>().unwrap().unwrap(),
        json!({ "code": "NOPE" })
    );

    // set_auth_accepted_and_refused
    let mut who = client
        .query::<_, Option<String>>("auth:whoami", json!({}))
        .auth(TOKEN)
        .subscribe();
    assert_eq!(next(&mut who).await.unwrap().as_deref(), Some("user_1"));
    let mut refused = client
        .query::<_, Option<String>>("auth:whoami", json!({}))
        .auth("refused-token")
        .subscribe();
    assert!(matches!(
        next(&mut refused).await.as_ref().map_err(Error::kind),
        Err(ErrorKind::Live {
            problem: LiveProblem::AuthRefused { .. },
            ..
        })
    ));

    // reconnect_after_server_drop
    let opened = deployment.sync_connections_opened();
    let mut state = client.connection_state();
    state.borrow_and_update();
    let () = client
        .mutation("control:dropSockets", json!({}))
        .over_socket()
        .await
        .unwrap();
    let reconnecting = |s: &ConnectionState| matches!(s, ConnectionState::Reconnecting { .. });
    tokio::time::timeout(Duration::from_secs(10), state.wait_for(reconnecting))
        .await
        .unwrap()
        .unwrap();
    tokio::time::timeout(
        Duration::from_secs(10),
        state.wait_for(|s| *s == ConnectionState::Connected),
    )
    .await
    .unwrap()
    .unwrap();
    let _: String = client
        .mutation("messages:send", json!({ "body": "after drop" }))
        .over_socket()
        .await
        .unwrap();
    let mut latest = next(&mut list).await.unwrap();
    while latest.len() < 2 {
        latest = next(&mut list).await.unwrap();
    }
    assert_eq!(latest, ["from js", "after drop"]);
    assert!(deployment.sync_connections_opened() > opened);
    assert_eq!(deployment.executions("control:dropSockets"), 1);
}
