//! Handlers written on the default client (the README's style: stubs without `.on(…)`) tested in parallel,
//! each test against its own deployment through `with_client` / the `use_client` layer; and how a failed
//! argument validation maps to HTTP. No test here installs a default client: they run beside the suite's
//! others, whose scopes must not reach them either.

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use convex::Client;
use convex_fetch_testing::{Ctx, TestDeployment};
use serde::Deserialize;
use serde_json::{Value, json};

// ---- The README's handler, as written there. ----

#[convex::mutation("tasks:create")]
pub async fn create_task(title: String) -> String;

// 400 with a ConvexError's message and data, 401 for a refused token, 502/504 when Convex is unreachable or slow.
async fn create(Json(title): Json<String>) -> Result<Json<String>, convex::Error> {
    Ok(Json(create_task(title).await?))
}

pub fn routes() -> Router {
    // Forwards each request's `Authorization: Bearer …` to the calls its handler makes to the default client's
    // deployment.
    Router::new()
        .route("/tasks", post(create))
        .layer(convex::axum::forward_auth())
}

// ---- Test support ----

#[convex::query("notes:get")]
pub async fn get_note(id: String) -> String;

#[derive(Deserialize)]
struct GetArgs {
    #[allow(dead_code)]
    id: NoteId,
}

/// An id of the `notes` table: `note_…`, as `v.id("notes")` accepts only such ids.
#[derive(Deserialize)]
#[serde(try_from = "String")]
struct NoteId;

impl TryFrom<String> for NoteId {
    type Error = String;
    fn try_from(id: String) -> Result<Self, String> {
        match id.starts_with("note_") {
            true => Ok(NoteId),
            false => Err(format!(
                "Value does not match validator v.id(\"notes\"): {id:?}"
            )),
        }
    }
}

/// A deployment whose `tasks:create` answers `"<name>: <title> by <subject>"`, so each test can tell its
/// own deployment's answers (and the forwarded user) from another's.
async fn deployment(name: &'static str) -> TestDeployment {
    TestDeployment::builder()
        .mutation("tasks:create", move |ctx: Ctx, args: Value| async move {
            let subject = ctx
                .identity()
                .and_then(|i| i.get("subject"))
                .and_then(Value::as_str)
                .unwrap_or("nobody")
                .to_owned();
            Ok(format!(
                "{name}: {} by {subject}",
                args["title"].as_str().unwrap_or("?")
            ))
        })
        // Typed args: an `id` that is not a notes id is refused with an `ArgumentValidationError`, as a
        // `v.id("notes")` validator refuses a string that is not a notes id.
        .query("notes:get", |_ctx: Ctx, _args: GetArgs| async move {
            Ok("a note")
        })
        .token("jwt-of-ada", json!({ "subject": "ada" }))
        .start()
        .await
}

/// The README's routes, with this test's deployment as their default client.
async fn app_for(deployment: &TestDeployment) -> String {
    let app = routes().layer(convex::axum::use_client(deployment.client()));
    examples::spawn(app).await.unwrap()
}

async fn post_task(base: &str, title: &str, token: Option<&str>) -> (StatusCode, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/tasks"))
        .json(&title);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// One of two tests that run at once, each with its own deployment behind the same handler code: each sees
/// only its own deployment's answers and its own calls recorded.
async fn readme_handler_against(name: &'static str) {
    let deployment = deployment(name).await;
    let base = app_for(&deployment).await;
    for round in 0..20 {
        let title = format!("{name}-{round}");
        let (status, body) = post_task(&base, &title, Some("jwt-of-ada")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body, format!("\"{name}: {title} by ada\""));
        tokio::task::yield_now().await;
    }
    let calls = deployment.calls();
    assert_eq!(calls.len(), 20);
    assert!(
        calls.iter().all(|call| call
            .args
            .get("title")
            .and_then(|title| title.as_str())
            .is_some_and(|title| title.starts_with(name))),
        "another test's call reached this deployment"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_test_one_uses_its_own_deployment() {
    readme_handler_against("one").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_test_two_uses_its_own_deployment() {
    readme_handler_against("two").await;
}

/// It needs a process with no default client, which no other test can install meanwhile: it runs in a
/// process of its own.
#[tokio::test]
async fn with_client_is_the_default_only_inside_its_scope() {
    if !crate::support::alone(
        module_path!(),
        "with_client_is_the_default_only_inside_its_scope",
    ) {
        return;
    }
    let deployment = deployment("scoped").await;
    let client = deployment.client();
    let inside = convex::with_client(client.clone(), async {
        assert_eq!(convex::default_client().unwrap().url(), client.url());
        create_task("t".to_owned()).await
    })
    .await
    .unwrap();
    assert_eq!(inside, "scoped: t by nobody");
    // Outside the scope this process has no default client (no CONVEX_URL, none installed).
    if std::env::var_os(convex::CONVEX_URL_ENV).is_none() {
        assert!(matches!(
            create_task("t".to_owned())
                .await
                .map_err(convex::Error::into_kind),
            Err(convex::ErrorKind::Config { .. })
        ));
    }
    assert_eq!(deployment.calls().len(), 1);
}

#[tokio::test]
async fn an_auth_scope_follows_the_client_scope_whichever_is_outer() {
    let deployment = deployment("nested").await;
    let client = deployment.client();
    let auth_inside = convex::with_client(
        client.clone(),
        convex::with_auth("jwt-of-ada", create_task("a".to_owned())),
    )
    .await
    .unwrap();
    assert_eq!(auth_inside, "nested: a by ada");
    let auth_outside = convex::with_auth(
        "jwt-of-ada",
        convex::with_client(client.clone(), create_task("b".to_owned())),
    )
    .await
    .unwrap();
    assert_eq!(auth_outside, "nested: b by ada");
}

#[tokio::test]
async fn a_token_bound_to_another_client_does_not_reach_the_scoped_client() {
    let ours = deployment("ours").await;
    let other = deployment("other").await;
    let other_client = other.client();
    let answer = convex::with_client(
        ours.client(),
        other_client.with_auth("jwt-of-ada", create_task("c".to_owned())),
    )
    .await
    .unwrap();
    assert_eq!(answer, "ours: c by nobody");
    assert!(other.calls().is_empty());
}

#[tokio::test]
async fn a_spawned_task_does_not_inherit_the_client_scope() {
    let deployment = deployment("spawn").await;
    let seen = convex::with_client(deployment.client(), async {
        tokio::spawn(async { convex::default_client().map(|c| c.url().to_owned()) })
            .await
            .unwrap()
    })
    .await;
    assert_ne!(seen.ok().as_deref(), Some(deployment.client().url()));
}

// ---- Failed argument validation ----

async fn note(base: &str, id: &str) -> (StatusCode, Value) {
    let response = reqwest::get(format!("{base}/notes/{id}")).await.unwrap();
    (response.status(), response.json().await.unwrap())
}

fn notes_routes(client: Client) -> Router {
    async fn show(
        axum::extract::Path(id): axum::extract::Path<String>,
    ) -> Result<Json<String>, convex::Error> {
        Ok(Json(get_note(id).await?))
    }
    Router::new()
        .route("/notes/{id}", get(show))
        .layer(convex::axum::use_client(client))
}

#[tokio::test]
async fn refused_arguments_are_the_callers_fault_by_default() {
    let deployment = deployment("args").await;
    let err = deployment
        .client()
        .query("notes:get", json!({ "id": "not-a-note-id" }))
        .await
        .map(|_: Value| ())
        .unwrap_err();
    assert!(err.is_argument_validation(), "{err:?}");
    assert_eq!(err.status_code(), StatusCode::BAD_REQUEST);

    let base = examples::spawn(notes_routes(deployment.client()))
        .await
        .unwrap();
    let (status, body) = note(&base, "not-a-note-id").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Only the reason: the validator's text stays in the logs.
    assert_eq!(body, json!({ "error": "Bad Request" }));
}

#[tokio::test]
async fn one_layer_makes_refused_arguments_a_server_error() {
    let deployment = deployment("args-ours").await;
    let app = notes_routes(deployment.client()).layer(convex::axum::invalid_arguments_are_ours());
    let base = examples::spawn(app).await.unwrap();
    let (status, body) = note(&base, "not-a-note-id").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body, json!({ "error": "Internal Server Error" }));
    // Other answers pass through the layer unchanged.
    let (status, body) = note(&base, "note_7").await;
    assert_eq!((status, body), (StatusCode::OK, json!("a note")));
}

#[tokio::test]
async fn other_function_failures_are_not_argument_validation() {
    let deployment = TestDeployment::builder()
        .query("notes:get", |_ctx: Ctx, _args: Value| async move {
            Err::<(), _>(convex_fetch_testing::FunctionError::message("boom"))
        })
        .start()
        .await;
    let err = get_note("x".to_owned())
        .on(deployment.client())
        .await
        .unwrap_err();
    assert!(!err.is_argument_validation());
    assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
}
