//! Behaviours of real deployments, over real HTTP: function errors in the backend's shape, credentials pasted
//! with their scheme, expired snapshots, documents whose counts come as `6.0`.

use convex::value::Document;
use convex::{Client, Error, ErrorKind, RetryPolicy, Untyped};
use convex_fetch_testing::{Ctx, FunctionError, TestDeployment};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;

fn functions() -> convex_fetch_testing::TestDeploymentBuilder {
    TestDeployment::builder()
        .mutation("tasks:create", |_ctx: Ctx, _args: Value| async move {
            Err::<(), _>(FunctionError::message("boom"))
        })
        .query("tasks:missing", |_ctx: Ctx, _args: Value| async move {
            Err::<(), _>(FunctionError::convex(json!({ "code": "NOT_FOUND" })))
        })
        .query("users:me", |ctx: Ctx, _args: Value| async move {
            Ok(ctx.identity().cloned())
        })
        .internal_query(
            "admin:count",
            |_ctx: Ctx, _args: Value| async move { Ok(3) },
        )
        .query("posts:get", |_ctx: Ctx, _args: Value| async move {
            // A document as the backend writes it: float64 counts with a `.0`.
            Ok(json!({ "_id": "k1", "_creationTime": 1.5, "count": 6.0, "title": "Hi" }))
        })
        .query("posts:list", |_ctx: Ctx, _args: Value| async move {
            Ok(vec!["Hello"])
        })
        .token("jwt-of-ada", json!({ "subject": "user_1" }))
}

fn request_id_of(err: &Error) -> String {
    let ErrorKind::Function { details, .. } = err.kind() else {
        panic!("{err:?}")
    };
    let id = details.request_id.clone().expect("a request id");
    assert!(
        id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    id
}

#[tokio::test]
async fn function_errors_are_taken_apart_and_shown_without_the_prefix() {
    let deployment = functions().start().await;
    let err = deployment
        .client()
        .mutation::<_, ()>("tasks:create", json!({}))
        .await
        .unwrap_err();
    let id = request_id_of(&err);
    assert_eq!(
        err.to_string(),
        format!("Convex mutation `tasks:create` failed: boom (request {id})")
    );
    let ErrorKind::Function {
        message, details, ..
    } = err.kind()
    else {
        unreachable!()
    };
    assert_eq!(message, "boom");
    assert_eq!(details.name.as_deref(), Some("Error"));
    assert!(details.stack.as_deref().unwrap().starts_with("    at "));
    assert!(
        details.raw_message.starts_with(&format!(
            "[Request ID: {id}] Server Error\nUncaught Error: boom\n"
        )),
        "{details:?}"
    );

    let err = deployment
        .client()
        .query::<_, ()>("tasks:missing", json!({}))
        .await
        .unwrap_err();
    let ErrorKind::Function { details, .. } = err.kind() else {
        panic!("{err:?}")
    };
    assert_eq!(details.name.as_deref(), Some("ConvexError"));
    assert_eq!(
        err.data::<Value>().unwrap().unwrap(),
        json!({ "code": "NOT_FOUND" })
    );

    // The backend's own texts, without its prefix.
    let err = deployment
        .client()
        .query::<_, ()>("posts:lst", json!({}))
        .await
        .unwrap_err();
    let ErrorKind::Function { message, .. } = err.kind() else {
        panic!("{err:?}")
    };
    assert_eq!(message, "Could not find public function for 'posts:lst'.");
}

#[tokio::test]
async fn redacted_errors_keep_the_request_id_and_the_data() {
    let deployment = functions().redact_errors().start().await;
    let err = deployment
        .client()
        .mutation::<_, ()>("tasks:create", json!({}))
        .await
        .unwrap_err();
    let id = request_id_of(&err);
    assert_eq!(
        err.to_string(),
        format!("Convex mutation `tasks:create` failed: Server Error (request {id})")
    );
    let err = deployment
        .client()
        .query::<_, ()>("tasks:missing", json!({}))
        .await
        .unwrap_err();
    assert_eq!(
        err.data::<Value>().unwrap().unwrap(),
        json!({ "code": "NOT_FOUND" })
    );
}

#[tokio::test]
async fn credentials_pasted_with_their_scheme_are_sent_once() {
    let deployment = functions().start().await;
    let client = deployment.client();
    for token in ["jwt-of-ada", "Bearer jwt-of-ada", "bearer jwt-of-ada"] {
        let me: Value = client
            .query("users:me", json!({}))
            .auth(token)
            .await
            .unwrap();
        assert_eq!(me["subject"], "user_1", "{token}");
    }
    let key = format!("Convex {}", deployment.admin_key());
    let count: u32 = client
        .query("admin:count", json!({}))
        .admin_key(&key)
        .await
        .unwrap();
    assert_eq!(count, 3);
    // The builder has every option a call has.
    let acting = Client::builder(deployment.url())
        .admin_key_acting_as(deployment.admin_key(), &json!({ "subject": "user_9" }))
        .build()
        .unwrap();
    let me: Value = acting.query("users:me", json!({})).await.unwrap();
    assert_eq!(me["subject"], "user_9");

    // The other kind's scheme is a mistake: refused before anything is sent.
    deployment.clear_calls();
    let err = client
        .query::<_, Value>("users:me", json!({}))
        .auth(&key)
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Config { .. }) && err.to_string().contains("admin_key"),
        "{err}"
    );
    assert!(!err.to_string().contains(deployment.admin_key()), "{err}");
    assert!(deployment.calls().is_empty());
}

#[tokio::test]
async fn a_query_at_an_expired_snapshot_says_so_and_is_not_retried() {
    // A young snapshot refused with 503 `InternalServerError` is a transient failure: retried, as queries are.
    let deployment = functions().snapshot_lifetime(Duration::ZERO).start().await;
    let client = Client::builder(deployment.url())
        .retry(RetryPolicy::default().base_delay(Duration::from_millis(1)))
        .build()
        .unwrap();
    let snapshot = client.snapshot().await.unwrap();
    deployment.clear_calls();
    let err = snapshot
        .query(Untyped::<_, Value>::query("posts:list", json!({})))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Server { status, code, .. } if status.as_u16() == 503 && code == "InternalServerError"),
        "{err:?}"
    );
    assert_eq!(deployment.calls().len(), 3);

    // Past the window, the failure is the snapshot's age: said plainly, and not retried.
    let deployment = functions()
        .snapshot_lifetime(Duration::from_secs(1))
        .start()
        .await;
    let client = Client::new(deployment.url()).unwrap();
    let snapshot = client.snapshot().await.unwrap();
    let titles: Vec<String> = snapshot
        .query(Untyped::query("posts:list", json!({})))
        .await
        .unwrap();
    assert_eq!(titles, ["Hello"]);
    tokio::time::sleep(convex::SNAPSHOT_LIFETIME - Duration::from_millis(1500)).await;
    deployment.clear_calls();
    let err = snapshot
        .query(Untyped::<_, Value>::query("posts:list", json!({})))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::SnapshotExpired { .. }),
        "{err:?}"
    );
    let shown = err.to_string();
    assert!(
        shown.contains("expired")
            && shown.contains("about 10 s")
            && shown.contains("client.snapshot()"),
        "{shown}"
    );
    assert_eq!(deployment.calls().len(), 1);
}

#[derive(Debug, Deserialize)]
struct Post {
    count: u32,
    title: String,
}

#[tokio::test]
async fn documents_decode_counts_written_as_floats() {
    let deployment = functions().start().await;
    let post: Document<Post> = deployment
        .client()
        .query("posts:get", json!({}))
        .await
        .unwrap();
    assert_eq!(
        (post.id.as_str(), post.count, post.title.as_str()),
        ("k1", 6, "Hi")
    );
}

#[tokio::test]
async fn paths_follow_the_backends_grammar_on_both_sides() {
    // The macros, the runtime and the test deployment read paths by one grammar, the backend's: a dot is
    // allowed in a directory name, a hyphen nowhere.
    let deployment = TestDeployment::builder()
        .query("v1.api/posts:list", |_ctx: Ctx, _args: Value| async move {
            Ok("v1")
        })
        .start()
        .await;
    let client = deployment.client();
    let listed: String = client
        .query("v1.api/posts.js:list", json!({}))
        .await
        .unwrap();
    assert_eq!(listed, "v1");
    assert_eq!(deployment.executions("v1.api/posts:list"), 1);

    let err = client
        .query::<_, String>("my-posts:list", json!({}))
        .await
        .unwrap_err();
    let ErrorKind::Server {
        status,
        code,
        message,
        ..
    } = err.kind()
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (status.as_u16(), code.as_str()),
        (400, "BadConvexFunctionIdentifier")
    );
    assert!(
        message.contains("my-posts:list is not a valid path"),
        "{message}"
    );
}
