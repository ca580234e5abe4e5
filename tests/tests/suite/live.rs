//! Live queries over the sync WebSocket, against the test deployment: first values and changes, shared
//! server queries, typed failures, auth, reconnects and the faults that cause them, mutations over the socket
//! that complete only once their writes are visible and run once across a dropped socket at any step.

use crate::support::{Messages, message_board, next_item as next};
use convex::value::Value;
use convex::{Client, ConnectionState, Error, ErrorKind, LiveProblem, LiveSettings, Untyped};
use convex_fetch_testing::{Ctx, FunctionError, SyncFault, TestDeployment};
use futures_util::StreamExt;
use serde_json::json;
use std::time::Duration;

const TOKEN: &str = "live-token";

async fn deployment() -> TestDeployment {
    message_board()
        .mutation("messages:fail", |_ctx: Ctx, _: Value| async move {
            Err::<(), _>(FunctionError::convex(json!({ "code": "NOPE" })))
        })
        .query("errors:convex", |_ctx: Ctx, _: Value| async move {
            Err::<(), _>(FunctionError::convex(json!({ "code": "NOPE", "n": 1 })))
        })
        .query("auth:whoami", |ctx: Ctx, _: Value| async move {
            Ok(ctx.identity().map(|i| i["subject"].clone()))
        })
        .action("actions:slow", |_ctx: Ctx, _: Value| async move {
            tokio::time::sleep(Duration::from_millis(400)).await;
            Ok("done")
        })
        .token(
            TOKEN,
            json!({ "subject": "user_1", "issuer": "https://auth.example.com" }),
        )
        .start()
        .await
}

fn list(client: &Client) -> convex::Call<Untyped<serde_json::Value, Vec<String>>> {
    client.query("messages:list", json!({})).returning()
}

fn fast(deployment: &TestDeployment) -> Client {
    Client::builder(deployment.url())
        .live(
            LiveSettings::default()
                .initial_backoff(Duration::from_millis(20))
                .max_backoff(Duration::from_millis(100))
                .silence_timeout(Duration::from_millis(400)),
        )
        .build()
        .unwrap()
}

async fn send(client: &Client, body: &str) {
    let _: String = client
        .mutation("messages:send", json!({ "body": body }))
        .await
        .unwrap();
}

#[tokio::test]
async fn yields_the_current_value_then_each_change_and_unsubscribes_on_drop() {
    let deployment = deployment().await;
    let client = fast(&deployment);
    assert_eq!(*client.connection_state().borrow(), ConnectionState::Idle);
    let mut posts = list(&client).subscribe();
    assert_eq!(next(&mut posts).await.unwrap(), Vec::<String>::new());
    assert_eq!(
        *client.connection_state().borrow(),
        ConnectionState::Connected
    );
    send(&client, "hello").await;
    assert_eq!(next(&mut posts).await.unwrap(), ["hello"]);
    // A mutation that changes nothing this query reads yields nothing.
    let _ = client.mutation::<_, ()>("messages:fail", json!({})).await;
    send(&client, "again").await;
    assert_eq!(next(&mut posts).await.unwrap(), ["hello", "again"]);
    drop(posts);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let removes = deployment
        .sync_messages()
        .iter()
        .flat_map(|m| m["modifications"].as_array().cloned().unwrap_or_default())
        .filter(|m| m["type"] == "Remove")
        .count();
    assert_eq!(removes, 1);
    assert_eq!(deployment.sync_connections_opened(), 1);
}

#[tokio::test]
async fn identical_subscriptions_share_one_server_query_and_one_socket() {
    let deployment = deployment().await;
    let client = fast(&deployment);
    let mut a = list(&client).subscribe();
    let mut b = list(&client).subscribe();
    let mut count = client
        .query::<_, f64>("messages:count", json!({}))
        .subscribe();
    assert!(next(&mut a).await.unwrap().is_empty());
    assert!(next(&mut b).await.unwrap().is_empty());
    assert_eq!(next(&mut count).await.unwrap(), 0.0);
    send(&client, "x").await;
    assert_eq!(next(&mut a).await.unwrap(), ["x"]);
    assert_eq!(next(&mut b).await.unwrap(), ["x"]);
    assert_eq!(next(&mut count).await.unwrap(), 1.0);
    let adds: Vec<String> = deployment
        .sync_messages()
        .iter()
        .flat_map(|m| m["modifications"].as_array().cloned().unwrap_or_default())
        .filter(|m| m["type"] == "Add")
        .map(|m| m["udfPath"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(adds, ["messages:list", "messages:count"]);
    assert_eq!(deployment.sync_connections_opened(), 1);
    // One of two identical subscriptions going leaves the server query in place.
    drop(a);
    send(&client, "y").await;
    assert_eq!(next(&mut b).await.unwrap(), ["x", "y"]);
}

#[tokio::test]
async fn subscriptions_opened_together_share_one_query_set_message() {
    let deployment = TestDeployment::builder()
        .query(
            "numbers:echo",
            |_ctx: Ctx, args: serde_json::Value| async move {
                Ok(args["n"].as_f64().unwrap_or_default())
            },
        )
        .start()
        .await;
    let client = fast(&deployment);
    let mut streams: Vec<_> = (0..50)
        .map(|n| {
            client
                .query::<_, f64>("numbers:echo", json!({ "n": n }))
                .subscribe()
        })
        .collect();
    let firsts = futures_util::future::join_all(streams.iter_mut().map(next)).await;
    let firsts: Vec<f64> = firsts.into_iter().map(Result::unwrap).collect();
    assert_eq!(firsts, (0..50).map(f64::from).collect::<Vec<_>>());
    // The first subscription opens the socket; the 49 queued behind it go in one message, not 49.
    let query_sets: Vec<usize> = deployment
        .sync_messages()
        .iter()
        .filter(|m| m["type"] == "ModifyQuerySet")
        .map(|m| m["modifications"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(query_sets.iter().sum::<usize>(), 50, "{query_sets:?}");
    assert!(query_sets.len() <= 3, "{query_sets:?}");
}

#[tokio::test]
async fn a_failing_query_yields_a_typed_convex_error_and_the_stream_goes_on() {
    let deployment = deployment().await;
    let client = fast(&deployment);
    let mut failing = client
        .query::<_, ()>("errors:convex", json!({}))
        .subscribe();
    let err = next(&mut failing).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Function { .. }), "{err:?}");
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Data {
        code: String,
        n: i64,
    }
    assert_eq!(
        err.data::<Data>().unwrap().unwrap(),
        Data {
            code: "NOPE".into(),
            n: 1
        }
    );
    // A result that does not fit the declared type is a decode error, not a panic.
    let mut wrong = client
        .query::<_, u8>("messages:list", json!({}))
        .subscribe();
    assert!(matches!(
        next(&mut wrong).await.map_err(Error::into_kind),
        Err(ErrorKind::Decode { .. })
    ));
}

#[tokio::test]
async fn the_calls_token_authenticates_the_socket_and_a_refused_one_is_a_typed_error() {
    let deployment = deployment().await;
    let client = fast(&deployment);
    let mut anonymous = client
        .query::<_, Option<String>>("auth:whoami", json!({}))
        .subscribe();
    let mut signed_in = client
        .query::<_, Option<String>>("auth:whoami", json!({}))
        .auth(TOKEN)
        .subscribe();
    assert_eq!(next(&mut anonymous).await.unwrap(), None);
    assert_eq!(
        next(&mut signed_in).await.unwrap().as_deref(),
        Some("user_1")
    );
    // One socket per credential.
    assert_eq!(deployment.sync_connections_opened(), 2);

    let mut refused = client
        .query::<_, Option<String>>("auth:whoami", json!({}))
        .auth("not-a-token")
        .subscribe();
    let err = next(&mut refused).await.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Live {
                problem: LiveProblem::AuthRefused { .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.status_code(), convex::StatusCode::UNAUTHORIZED);
    assert!(!format!("{err:?} {err}").contains("not-a-token"));
    // The connection retries at once and with a growing backoff: the refusal shows as the reason it waits,
    // between attempts.
    let mut states = refused.connection_state().unwrap();
    let waited = tokio::time::timeout(
        Duration::from_secs(10),
        states.wait_for(|state| {
            matches!(state, ConnectionState::Reconnecting { reason, .. } if reason.contains("refused"))
        }),
    )
    .await
    .map(|state| state.is_ok());
    assert_eq!(waited, Ok(true), "{:?}", states.borrow().clone());
    let _ = deployment.http_requests();
}

#[tokio::test]
async fn a_scoped_token_never_replaces_the_clients_own_credential_as_for_calls() {
    let deployment = TestDeployment::builder()
        .query("auth:whoami", |ctx: Ctx, _: Value| async move {
            Ok(ctx.identity().map(|i| i["subject"].clone()))
        })
        .token("jwt-of-ada", json!({ "subject": "ada" }))
        .token("jwt-of-bob", json!({ "subject": "bob" }))
        .start()
        .await;
    let bob = Client::builder(deployment.url())
        .auth("jwt-of-bob")
        .build()
        .unwrap();
    let whoami = |client: &Client| client.query::<_, Option<String>>("auth:whoami", json!({}));
    let mut in_scope = bob
        .with_auth("jwt-of-ada", async { whoami(&bob).subscribe() })
        .await;
    assert_eq!(next(&mut in_scope).await.unwrap().as_deref(), Some("bob"));
    let over_http = bob.with_auth("jwt-of-ada", whoami(&bob)).await.unwrap();
    assert_eq!(over_http.as_deref(), Some("bob"));
    // A client without a credential of its own takes the scope's.
    let anonymous = deployment.client();
    let mut as_ada = anonymous
        .with_auth("jwt-of-ada", async { whoami(&anonymous).subscribe() })
        .await;
    assert_eq!(next(&mut as_ada).await.unwrap().as_deref(), Some("ada"));
}

#[tokio::test]
async fn reconnects_after_the_server_drops_the_socket_and_resubscribes_from_version_zero() {
    let deployment = deployment().await;
    let client = fast(&deployment);
    let mut posts = list(&client).subscribe();
    assert!(next(&mut posts).await.unwrap().is_empty());
    let mut states = client.connection_state();
    states.borrow_and_update();
    deployment.drop_sync_connections();
    tokio::time::timeout(
        Duration::from_secs(5),
        states.wait_for(|s| matches!(s, ConnectionState::Reconnecting { .. })),
    )
    .await
    .unwrap()
    .unwrap();
    tokio::time::timeout(
        Duration::from_secs(5),
        states.wait_for(|s| *s == ConnectionState::Connected),
    )
    .await
    .unwrap()
    .unwrap();
    send(&client, "after").await;
    assert_eq!(next(&mut posts).await.unwrap(), ["after"]);
    assert_eq!(deployment.sync_connections_opened(), 2);
    // The second socket: the same session, connectionCount 1, the query set from version 0.
    let messages = deployment.sync_messages();
    let connects: Vec<_> = messages.iter().filter(|m| m["type"] == "Connect").collect();
    assert_eq!(connects.len(), 2);
    assert_eq!(connects[0]["sessionId"], connects[1]["sessionId"]);
    assert_eq!(connects[1]["connectionCount"], 1);
    assert!(connects[1]["maxObservedTimestamp"].is_string());
    let resubscribe = messages
        .iter()
        .filter(|m| m["type"] == "ModifyQuerySet" && m["baseVersion"] == 0)
        .nth(1)
        .expect("a second query set from version 0");
    assert_eq!(resubscribe["modifications"][0]["queryId"], 0);
}

#[tokio::test]
async fn a_close_code_and_a_silent_server_are_reported_and_replaced() {
    let deployment = deployment().await;
    let client = fast(&deployment);
    let mut posts = list(&client).subscribe();
    assert!(next(&mut posts).await.unwrap().is_empty());
    let mut states = client.connection_state();
    deployment.fail_next_sync(SyncFault::Close {
        code: 1013,
        reason: "Overloaded".into(),
    });
    send(&client, "a").await;
    let state = tokio::time::timeout(
        Duration::from_secs(5),
        states.wait_for(|s| matches!(s, ConnectionState::Reconnecting { .. })),
    )
    .await
    .unwrap()
    .unwrap()
    .clone();
    assert!(
        matches!(&state, ConnectionState::Reconnecting { reason, .. } if reason.contains("1013") && reason.contains("Overloaded")),
        "{state:?}"
    );
    assert_eq!(next(&mut posts).await.unwrap(), ["a"]);

    // Silence: the server stops sending anything, pings included; the client notices and replaces it.
    deployment.fail_next_sync(SyncFault::Silence);
    send(&client, "b").await;
    assert_eq!(next(&mut posts).await.unwrap(), ["a", "b"]);
    assert_eq!(deployment.sync_connections_opened(), 3);
    assert!(states.borrow().clone() == ConnectionState::Connected);
}

#[tokio::test]
async fn a_delayed_frame_is_still_delivered_in_order() {
    let deployment = deployment().await;
    let client = fast(&deployment);
    let mut posts = list(&client).subscribe();
    assert!(next(&mut posts).await.unwrap().is_empty());
    deployment.fail_next_sync(SyncFault::Delay(Duration::from_millis(300)));
    send(&client, "late").await;
    assert_eq!(next(&mut posts).await.unwrap(), ["late"]);
    assert_eq!(deployment.sync_connections_opened(), 1);
}

#[tokio::test]
async fn a_socket_mutation_completes_once_its_write_is_visible() {
    let deployment = deployment().await;
    // Not `fast`: its silence timeout (400 ms) is no longer than the slow action, during which the server
    // sends nothing before its 5 s heartbeat, as the backend does.
    let client = Client::builder(deployment.url())
        .live(LiveSettings::default().silence_timeout(Duration::from_secs(30)))
        .build()
        .unwrap();
    let mut posts = list(&client).subscribe();
    assert!(next(&mut posts).await.unwrap().is_empty());
    let body: String = client
        .mutation("messages:send", json!({ "body": "socket" }))
        .over_socket()
        .await
        .unwrap();
    assert_eq!(body, "socket");
    // The Transition that completed it has already reached the subscription.
    let now = tokio::time::timeout(Duration::from_millis(1), posts.next()).await;
    assert_eq!(now.unwrap().unwrap().unwrap(), ["socket"]);
    let err = client
        .mutation::<_, ()>("messages:fail", json!({}))
        .over_socket()
        .await
        .unwrap_err();
    assert_eq!(
        err.data::<serde_json::Value>().unwrap().unwrap(),
        json!({ "code": "NOPE" })
    );
    let slow: String = client
        .action("actions:slow", json!({}))
        .over_socket()
        .await
        .unwrap();
    assert_eq!(slow, "done");
    let count: f64 = client
        .query("messages:count", json!({}))
        .over_socket()
        .await
        .unwrap();
    assert_eq!(count, 1.0);
}

#[tokio::test]
async fn a_mutation_runs_once_whichever_step_the_socket_drops_at() {
    // Before it runs; after it ran, before its response; after its response, before its Transition; after.
    let cases: Vec<Vec<SyncFault>> = vec![
        vec![SyncFault::DropOnMutation],
        vec![SyncFault::Drop],
        vec![SyncFault::Delay(Duration::ZERO), SyncFault::Drop],
        vec![
            SyncFault::Delay(Duration::ZERO),
            SyncFault::Delay(Duration::ZERO),
            SyncFault::Drop,
        ],
    ];
    for (step, faults) in cases.into_iter().enumerate() {
        let deployment = deployment().await;
        let client = fast(&deployment);
        let mut posts = list(&client).subscribe();
        assert!(next(&mut posts).await.unwrap().is_empty());
        for fault in faults {
            deployment.fail_next_sync(fault);
        }
        let body: String = client
            .mutation("messages:send", json!({ "body": "once" }))
            .over_socket()
            .await
            .unwrap_or_else(|e| panic!("step {step}: {e}"));
        assert_eq!(body, "once");
        assert_eq!(deployment.executions("messages:send"), 1, "step {step}");
        let mut latest = next(&mut posts).await.unwrap();
        while let Ok(Some(item)) =
            tokio::time::timeout(Duration::from_millis(300), posts.next()).await
        {
            latest = item.unwrap();
        }
        assert_eq!(latest, ["once"], "step {step}");
        assert_eq!(
            deployment.state::<Messages>().unwrap().0,
            ["once"],
            "step {step}"
        );
        // Every send of it carried the same request id.
        let ids: Vec<_> = deployment
            .sync_messages()
            .iter()
            .filter(|m| m["type"] == "Mutation")
            .map(|m| m["requestId"].clone())
            .collect();
        assert!(ids.windows(2).all(|w| w[0] == w[1]), "step {step}: {ids:?}");
    }
}

#[tokio::test]
async fn an_action_in_flight_across_a_disconnect_may_have_run() {
    let deployment = deployment().await;
    let client = fast(&deployment);
    let call = tokio::spawn({
        let client = client.clone();
        async move {
            client
                .action::<_, String>("actions:slow", json!({}))
                .over_socket()
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    deployment.drop_sync_connections();
    let err = call.await.unwrap().unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Live {
                problem: LiveProblem::MayHaveRun,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.provably_not_run());
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Never re-sent.
    assert_eq!(deployment.executions("actions:slow"), 1);
}

#[tokio::test]
async fn bad_args_and_a_missing_runtime_are_errors_not_panics() {
    let deployment = deployment().await;
    let client = fast(&deployment);
    let mut bad = client
        .query::<_, Value>("messages:list", json!([1, 2]))
        .subscribe();
    assert!(matches!(
        next(&mut bad).await.map_err(Error::into_kind),
        Err(ErrorKind::InvalidArgs { .. })
    ));
    assert!(bad.next().await.is_none());
}

/// A JWT (unsigned: the test deployment matches tokens by text) that expires `exp` seconds after the epoch.
fn jwt(subject: &str, exp: f64) -> String {
    use base64::Engine as _;
    let part = |text: String| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
    format!(
        "{}.{}.sig",
        part(r#"{"alg":"none"}"#.to_owned()),
        part(json!({ "sub": subject, "exp": exp }).to_string())
    )
}

fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[tokio::test]
async fn a_token_source_is_refreshed_before_expiry_on_the_open_socket() {
    use convex::token::{LiveTokens, Token};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    // Tokens that expire one after the other, a second apart, each of another user.
    let start = now_secs();
    let tokens: Vec<String> = (0..3)
        .map(|i| jwt(&format!("user_{i}"), start + 1.0 + i as f64))
        .collect();
    let mut builder = TestDeployment::builder()
        .query("auth:whoami", |ctx: Ctx, _: Value| async move {
            Ok(ctx.identity().map(|i| i["subject"].clone()))
        });
    for (i, token) in tokens.iter().enumerate() {
        builder = builder.token(token.clone(), json!({ "subject": format!("user_{i}") }));
    }
    let deployment = builder.start().await;
    let fetches = Arc::new(AtomicUsize::new(0));
    let source = {
        let (fetches, tokens) = (fetches.clone(), tokens.clone());
        LiveTokens::from_fn(move |_fresh| {
            let n = fetches.fetch_add(1, Ordering::SeqCst);
            let token = tokens[n.min(tokens.len() - 1)].clone();
            async move { Ok(Token::new(token)) }
        })
    };
    // Not `fast`: its short silence timeout would replace the socket between two refreshes.
    let client = Client::builder(deployment.url())
        .live(LiveSettings::default().initial_backoff(Duration::from_millis(20)))
        .build()
        .unwrap();
    let mut whoami = client
        .query::<_, Option<String>>("auth:whoami", json!({}))
        .subscribe_with_tokens(&source);
    for i in 0..3 {
        assert_eq!(
            next(&mut whoami).await.unwrap().as_deref(),
            Some(format!("user_{i}").as_str())
        );
    }
    // One socket, authenticated three times in a row on it.
    assert_eq!(deployment.sync_connections_opened(), 1);
    let bases: Vec<u64> = deployment
        .sync_messages()
        .iter()
        .filter(|m| m["type"] == "Authenticate")
        .map(|m| m["baseVersion"].as_u64().unwrap())
        .collect();
    assert_eq!(bases, [0, 1, 2]);
    assert!(fetches.load(Ordering::SeqCst) >= 3);
    // A reconnect fetches a token again.
    let before = fetches.load(Ordering::SeqCst);
    deployment.drop_sync_connections();
    tokio::time::timeout(Duration::from_secs(5), async {
        while deployment.sync_connections_opened() < 2 || fetches.load(Ordering::SeqCst) == before {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("a reconnect with a fetched token");
    assert!(!format!("{whoami:?} {source:?}").contains(&tokens[0]));
}

/// A token whose `exp` is past what a `SystemTime` or an `Instant` holds (or at their edge) authenticates the
/// socket: the worker neither panics reading it nor computing when to refresh it.
#[tokio::test]
async fn a_token_expiring_beyond_any_instant_is_used_not_a_panic() {
    use convex::token::{LiveTokens, Token};
    for exp in [1e19, 1e300, 9.2e18, f64::MAX] {
        let token = jwt("ada", exp);
        let deployment = TestDeployment::builder()
            .query("auth:whoami", |ctx: Ctx, _: Value| async move {
                Ok(ctx.identity().map(|i| i["subject"].clone()))
            })
            .token(token.clone(), json!({ "subject": "ada" }))
            .start()
            .await;
        let source = LiveTokens::from_fn(move |_fresh| {
            let token = token.clone();
            async move { Ok(Token::new(token)) }
        });
        let client = deployment.client();
        let mut whoami = client
            .query::<_, Option<String>>("auth:whoami", json!({}))
            .subscribe_with_tokens(&source);
        assert_eq!(
            next(&mut whoami).await.unwrap().as_deref(),
            Some("ada"),
            "exp {exp}"
        );
    }
}

#[tokio::test]
async fn a_refused_token_from_a_source_is_a_typed_error_then_a_fresh_one_is_fetched() {
    use convex::token::{LiveTokens, Token, TokenError};
    use std::sync::{Arc, Mutex};
    let deployment = TestDeployment::builder()
        .query("auth:whoami", |ctx: Ctx, _: Value| async move {
            Ok(ctx.identity().map(|i| i["subject"].clone()))
        })
        .token("token-of-ada", json!({ "subject": "ada" }))
        .token("fresh-token-of-ada", json!({ "subject": "ada again" }))
        .start()
        .await;
    let asked = Arc::new(Mutex::new(Vec::new()));
    let source = {
        let asked = asked.clone();
        LiveTokens::from_fn(move |fresh| {
            asked.lock().unwrap().push(fresh);
            let token = if fresh {
                "fresh-token-of-ada"
            } else {
                "token-of-ada"
            };
            async move { Ok(Token::new(token)) }
        })
    };
    // The client's own token source, used by a subscription without a credential of its own.
    let client = Client::builder(deployment.url())
        .live(
            LiveSettings::default()
                .initial_backoff(Duration::from_millis(20))
                .max_backoff(Duration::from_millis(100))
                .tokens(source),
        )
        .build()
        .unwrap();
    let mut whoami = client
        .query::<_, Option<String>>("auth:whoami", json!({}))
        .subscribe();
    assert_eq!(next(&mut whoami).await.unwrap().as_deref(), Some("ada"));

    // The token is revoked; the next socket is refused with it.
    deployment.refuse_token("token-of-ada");
    deployment.drop_sync_connections();
    let err = next(&mut whoami).await.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Live {
                problem: LiveProblem::AuthRefused { .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!format!("{err:?} {err}").contains("token-of-ada"));
    // Then a fresh token is asked for, and the stream goes on under it.
    assert_eq!(
        next(&mut whoami).await.unwrap().as_deref(),
        Some("ada again")
    );
    assert_eq!(asked.lock().unwrap().as_slice(), [false, false, true]);

    // A source that refuses the session: the stream says so, and the connection keeps trying.
    let refusing = LiveTokens::from_fn(|_| async {
        Err(TokenError::Refused {
            reason: "signed out".to_owned(),
        })
    });
    let mut refused = client
        .query::<_, Option<String>>("auth:whoami", json!({}))
        .subscribe_with_tokens(&refusing);
    let err = next(&mut refused).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Live { problem: LiveProblem::AuthRefused { message, .. }, .. } if message.contains("signed out")),
        "{err:?}"
    );
    let state = refused.connection_state().unwrap().borrow().clone();
    assert!(
        matches!(&state, ConnectionState::Reconnecting { reason, .. } if reason.contains("refused")),
        "{state:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_set_yields_every_query_at_one_moment() {
    let deployment = deployment().await;
    let client = fast(&deployment);
    let mut set = client.watch_all();
    let messages = set.insert(list(&client)).unwrap();
    let count = set
        .insert(client.query::<_, f64>("messages:count", json!({})))
        .unwrap();
    // Another credential needs another socket: refused, since the set could not read both at one moment.
    let err = set
        .insert(
            client
                .query::<_, Option<String>>("auth:whoami", json!({}))
                .auth(TOKEN),
        )
        .unwrap_err();
    assert!(err.to_string().contains("one credential"), "{err}");

    let first = tokio::time::timeout(Duration::from_secs(10), set.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(first.get(&messages).unwrap(), Vec::<String>::new());
    assert_eq!(first.get(&count).unwrap(), 0.0);

    // Every mutation changes both queries; each view must show both after it, or both before.
    const WRITES: usize = 40;
    let writer = {
        let client = client.clone();
        tokio::spawn(async move {
            for i in 0..WRITES {
                send(&client, &format!("m{i}")).await;
            }
        })
    };
    let mut views = 1;
    let mut seen = 0;
    while seen < WRITES {
        let view = tokio::time::timeout(Duration::from_secs(10), set.next())
            .await
            .expect("a view within 10 s")
            .expect("the set goes on")
            .unwrap();
        let list = view.get(&messages).unwrap();
        let counted = view.get(&count).unwrap();
        assert_eq!(
            list.len() as f64,
            counted,
            "a mixed view: {list:?} with count {counted}"
        );
        assert!(list.len() > seen, "a view without a change");
        seen = list.len();
        views += 1;
    }
    writer.await.unwrap();
    assert!(views > 2, "{views} views");
    // A key of another set is an error, not a panic.
    let mut other = client.watch_all();
    let _ = other.insert(list(&client)).unwrap();
    let _ = other.insert(list(&client)).unwrap();
    let third = other.insert(list(&client)).unwrap();
    assert!(first.get(&third).is_err());
}

/// A sync server that misbehaves: the `i`th socket gets `script[i]` once the client has sent its query set,
/// then is held open until the client leaves. Returns its URL and the `lastCloseReason` of each `Connect`.
async fn hostile_server(
    script: Vec<Vec<tokio_tungstenite::tungstenite::Message>>,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use futures_util::SinkExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let reasons = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = reasons.clone();
    tokio::spawn(async move {
        let mut script = script.into_iter();
        while let Ok((tcp, _)) = listener.accept().await {
            let frames = script.next().unwrap_or_default();
            let seen = seen.clone();
            tokio::spawn(async move {
                let Ok(mut socket) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                while let Some(Ok(message)) = socket.next().await {
                    let Ok(text) = message.to_text() else {
                        continue;
                    };
                    let Ok(message) = serde_json::from_str::<serde_json::Value>(text) else {
                        continue;
                    };
                    if message["type"] == "Connect" {
                        let reason = message["lastCloseReason"].as_str().unwrap_or_default();
                        seen.lock().unwrap().push(reason.to_owned());
                    }
                    if message["type"] == "ModifyQuerySet" && message["baseVersion"] == 0 {
                        for frame in frames.clone() {
                            if frame == pause() {
                                // Lets the stream see the last result before the next replaces it.
                                tokio::time::sleep(Duration::from_millis(300)).await;
                                continue;
                            }
                            if socket.send(frame).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    (url, reasons)
}

/// In a [`hostile_server`] script, a pause instead of a frame.
fn pause() -> tokio_tungstenite::tungstenite::Message {
    tokio_tungstenite::tungstenite::Message::Ping(b"pause".to_vec().into())
}

/// A Transition of the one query (id 0), from `start` to `end` as (querySet, ts).
fn transition(start: (u32, u64), end: (u32, u64), value: serde_json::Value) -> String {
    use base64::Engine as _;
    let ts = |ts: u64| base64::engine::general_purpose::STANDARD.encode(ts.to_le_bytes());
    json!({
        "type": "Transition",
        "startVersion": { "querySet": start.0, "identity": 0, "ts": ts(start.1) },
        "endVersion": { "querySet": end.0, "identity": 0, "ts": ts(end.1) },
        "modifications": [{ "type": "QueryUpdated", "queryId": 0, "value": value, "logLines": [], "journal": null }],
        "clientClockSkew": 0,
        "serverTs": 0,
    })
    .to_string()
}

#[tokio::test]
async fn a_hostile_server_gives_typed_errors_or_reconnects_never_a_panic_or_a_silent_stream() {
    use tokio_tungstenite::tungstenite::Message;
    let text = |s: &str| Message::text(s.to_owned());
    let script = vec![
        vec![text("{not json")],
        vec![
            text(r#"{"type":"Surprise","x":1}"#),
            // A version gap: the client is at querySet 0.
            text(&transition((3, 0), (4, 1), json!(["gap"]))),
        ],
        vec![Message::binary(vec![1u8, 2, 3])],
        // Over the client's limit of 1 KiB.
        vec![text(&transition((0, 0), (1, 1), json!(["x".repeat(4096)])))],
        vec![text(
            &transition((0, 0), (1, 1), json!(["ok"])).replace("AQAAAAAAAAA=", "!!"),
        )],
        // A version the client never asked for.
        vec![text(&transition((0, 0), (9, 1), json!(["never"])))],
        vec![text(r#"{"type":"Transition","modifications":"oops"}"#)],
        vec![text(
            r#"{"type":"FatalError","error":"Base version 2 passed up doesn't match"}"#,
        )],
        // Finally a server that answers, oddly: an unknown message, a response to no request, a result
        // of the wrong type, then a good one.
        vec![
            pause(),
            text(r#"{"type":"Surprise"}"#),
            text(
                r#"{"type":"MutationResponse","requestId":77,"success":true,"result":null,"ts":"AQAAAAAAAAA=","logLines":[]}"#,
            ),
            text(&transition((0, 0), (1, 1), json!(5))),
            pause(),
            text(&transition((1, 1), (1, 2), json!(["ok"]))),
        ],
    ];
    let hostile = script.len() - 1;
    let (url, reasons) = hostile_server(script).await;
    let client = Client::builder(url)
        .live(
            LiveSettings::default()
                .initial_backoff(Duration::from_millis(5))
                .max_backoff(Duration::from_millis(20))
                .max_message_bytes(1024),
        )
        .build()
        .unwrap();
    let mut messages = client
        .query::<_, Vec<String>>("messages:list", json!({}))
        .subscribe();
    let fatal = next(&mut messages).await.unwrap_err();
    assert!(
        matches!(fatal.kind(), ErrorKind::Live { problem: LiveProblem::Fatal { message, .. }, .. } if message.contains("Base version")),
        "{fatal:?}"
    );
    let wrong_type = next(&mut messages).await.unwrap_err();
    assert!(
        matches!(wrong_type.kind(), ErrorKind::Decode { .. }),
        "{wrong_type:?}"
    );
    assert_eq!(next(&mut messages).await.unwrap(), ["ok"]);

    // Each socket but the last was replaced, for its own reason.
    let reasons = reasons.lock().unwrap().clone();
    assert_eq!(reasons.len(), hostile + 1, "{reasons:#?}");
    let expected = [
        "InitialConnect",
        "not JSON",
        "from version",
        "binary",
        "too long",
        "not base64",
        "never asked for",
        "malformed Transition",
        "fatal error",
    ];
    for (reason, expected) in reasons.iter().zip(expected) {
        assert!(reason.contains(expected), "{reason:?} lacks {expected:?}");
    }
}

#[tokio::test]
async fn the_socket_trusts_what_the_clients_calls_trust_and_refuses_a_proxy() {
    let deployment = deployment().await;
    let (url, ca) = crate::support::tls_front(deployment.url()).await;
    let settings = || {
        LiveSettings::default()
            .initial_backoff(Duration::from_millis(20))
            .max_backoff(Duration::from_millis(100))
    };

    // The built-in roots do not know the private CA: the socket is refused, and says why.
    let untrusting = Client::builder(&url).live(settings()).build().unwrap();
    let refused = list(&untrusting).subscribe();
    let mut states = refused.connection_state().unwrap();
    let mut refused = refused;
    let reason = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            tokio::select! {
                _ = refused.next() => panic!("a value over an untrusted certificate"),
                changed = states.changed() => {
                    changed.unwrap();
                    if let ConnectionState::Reconnecting { reason, .. } = &*states.borrow() {
                        return reason.clone();
                    }
                }
            }
        }
    })
    .await
    .unwrap();
    assert!(reason.to_lowercase().contains("certificate"), "{reason}");

    // Once added, the CA is trusted by the socket as by the calls, with or without the built-in roots.
    for built_in in [true, false] {
        let trusting = Client::builder(&url)
            .add_root_certificate_pem(ca.as_bytes())
            .built_in_root_certificates(built_in)
            .live(settings())
            .build()
            .unwrap();
        let mut messages = list(&trusting).subscribe();
        let before = next(&mut messages).await.unwrap();
        send(&trusting, "over wss").await;
        let after = next(&mut messages).await.unwrap();
        assert_eq!(after.len(), before.len() + 1, "{after:?}");
    }

    // A proxy the socket cannot use is a clear error, not a connection around it (an `http://` proxy carries
    // the socket: tests/live_proxy.rs).
    let proxied = Client::builder(deployment.url())
        .proxy("socks5://127.0.0.1:9")
        .build()
        .unwrap();
    let err = next(&mut list(&proxied).subscribe()).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Config { message, .. } if message.contains("proxy")),
        "{err:?}"
    );
}
