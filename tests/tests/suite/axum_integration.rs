//! The axum integration over real HTTP: an axum app on 127.0.0.1 in front of a test deployment.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use convex::axum::{BearerToken, SharedSecret, forward_auth_to};
use convex::{Client, Error};
use convex_fetch_testing::{Ctx, FunctionError, TestDeployment};
use serde_json::{Value, json};
use std::time::Duration;

async fn deployment() -> TestDeployment {
    TestDeployment::builder()
        .query("users:me", |ctx: Ctx, _args: Value| async move {
            Ok(ctx.identity().and_then(|i| i.get("subject").cloned()))
        })
        .mutation("tasks:create", |_ctx: Ctx, _args: Value| async move {
            Err::<(), _>(FunctionError::convex(
                json!({ "code": "TITLE_TAKEN", "big": 1 }),
            ))
        })
        .mutation("tasks:crash", |_ctx: Ctx, _args: Value| async move {
            Err::<(), _>(FunctionError::message("db password is hunter2"))
        })
        .query("tasks:slow", |_ctx: Ctx, _args: Value| async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            Ok(())
        })
        .action("jobs:nightly", |_ctx: Ctx, _args: Value| async move {
            Ok("done")
        })
        .token("jwt-of-ada", json!({ "subject": "ada" }))
        .token("jwt-of-bob", json!({ "subject": "bob" }))
        .start()
        .await
}

fn app(client: Client) -> Router {
    async fn me(State(client): State<Client>) -> Result<Json<Option<String>>, Error> {
        Ok(Json(client.query("users:me", json!({})).await?))
    }
    async fn me_as_bob(State(client): State<Client>) -> Result<Json<Option<String>>, Error> {
        // A call's own credential wins over the request's.
        Ok(Json(
            client
                .query("users:me", json!({}))
                .auth("jwt-of-bob")
                .await?,
        ))
    }
    async fn create(State(client): State<Client>) -> Result<(), Error> {
        client.mutation("tasks:create", json!({})).await
    }
    async fn crash(State(client): State<Client>) -> Result<(), Error> {
        client.mutation("tasks:crash", json!({})).await
    }
    async fn slow(State(client): State<Client>) -> Result<(), Error> {
        client
            .query("tasks:slow", json!({}))
            .timeout(Duration::from_millis(20))
            .await
    }
    async fn whoami(
        token: BearerToken,
        State(client): State<Client>,
    ) -> Result<Json<Option<String>>, Error> {
        Ok(Json(
            client
                .query("users:me", json!({}))
                // The extracted token is a credential as it is.
                .auth(token)
                .await?,
        ))
    }
    async fn maybe(token: Option<BearerToken>) -> String {
        token.map_or("anonymous".to_owned(), |_| "signed in".to_owned())
    }
    async fn nightly(State(client): State<Client>) -> Result<Json<String>, Error> {
        Ok(Json(client.action("jobs:nightly", json!({})).await?))
    }
    let cron = Router::new()
        .route("/cron/nightly", post(nightly))
        .route_layer(SharedSecret::cron("cron-s3cret"));
    Router::new()
        .route("/me", get(me))
        .route("/me-as-bob", get(me_as_bob))
        .route("/create", post(create))
        .route("/crash", post(crash))
        .route("/slow", get(slow))
        .route("/whoami", get(whoami))
        .route("/maybe", get(maybe))
        .layer(forward_auth_to(client.clone()))
        .merge(cron)
        .with_state(client)
}

async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
    let body = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

#[tokio::test]
async fn every_call_of_a_request_runs_as_its_caller() {
    let deployment = deployment().await;
    let base = examples::spawn(app(deployment.client())).await.unwrap();
    let http = reqwest::Client::new();
    let get = |path: &str, token: Option<&str>| {
        let mut request = http.get(format!("{base}{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(
        json_of(get("/me", Some("jwt-of-ada")).await.unwrap()).await,
        (StatusCode::OK, json!("ada"))
    );
    assert_eq!(
        json_of(get("/me", None).await.unwrap()).await,
        (StatusCode::OK, json!(null))
    );
    assert_eq!(
        json_of(get("/me-as-bob", Some("jwt-of-ada")).await.unwrap()).await,
        (StatusCode::OK, json!("bob"))
    );
    // A token the deployment refuses is the caller's problem: 401, passed on.
    let (status, body) = json_of(get("/me", Some("forged")).await.unwrap()).await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, json!({ "error": "Unauthorized" }))
    );
}

#[tokio::test]
async fn the_bearer_token_extractor_refuses_a_request_without_one() {
    let deployment = deployment().await;
    let base = examples::spawn(app(deployment.client())).await.unwrap();
    let http = reqwest::Client::new();
    let response = http.get(format!("{base}/whoami")).send().await.unwrap();
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .map(|v| v.as_bytes()),
        Some(&b"Bearer"[..])
    );
    assert_eq!(json_of(response).await.0, StatusCode::UNAUTHORIZED);
    let response = http
        .get(format!("{base}/whoami"))
        .bearer_auth("jwt-of-ada")
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(response).await, (StatusCode::OK, json!("ada")));
    for (token, expected) in [(None, "anonymous"), (Some("jwt-of-ada"), "signed in")] {
        let mut request = http.get(format!("{base}/maybe"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        assert_eq!(
            request.send().await.unwrap().text().await.unwrap(),
            expected
        );
    }
}

#[tokio::test]
async fn errors_answer_with_their_status_and_leak_nothing() {
    let deployment = deployment().await;
    let base = examples::spawn(app(deployment.client())).await.unwrap();
    let http = reqwest::Client::new();

    let response = http.post(format!("{base}/create")).send().await.unwrap();
    assert_eq!(
        response.headers().get("content-type").map(|v| v.as_bytes()),
        Some(&b"application/json"[..])
    );
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["data"], json!({ "code": "TITLE_TAKEN", "big": 1.0 }));
    // No message in the data: the status's reason, not the data again as text.
    assert_eq!(body["error"], "Bad Request", "{body}");

    let (status, body) = json_of(http.post(format!("{base}/crash")).send().await.unwrap()).await;
    assert_eq!(
        (status, &body),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({ "error": "Internal Server Error" })
        )
    );

    let (status, body) = json_of(http.get(format!("{base}/slow")).send().await.unwrap()).await;
    assert_eq!(
        (status, &body),
        (
            StatusCode::GATEWAY_TIMEOUT,
            &json!({ "error": "Gateway Timeout" })
        )
    );
}

#[tokio::test]
async fn a_cron_route_runs_only_for_the_right_secret() {
    let deployment = deployment().await;
    let base = examples::spawn(app(deployment.client())).await.unwrap();
    let http = reqwest::Client::new();
    for secret in [None, Some("wrong"), Some("cron-s3cre"), Some("Cron-s3cret")] {
        let mut request = http.post(format!("{base}/cron/nightly"));
        if let Some(secret) = secret {
            request = request.header("x-cron-secret", secret);
        }
        let (status, body) = json_of(request.send().await.unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{secret:?}");
        assert!(!body.to_string().contains("cron-s3cret"), "{body}");
    }
    assert_eq!(deployment.executions("jobs:nightly"), 0);
    let response = http
        .post(format!("{base}/cron/nightly"))
        .header("x-cron-secret", "cron-s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(response).await, (StatusCode::OK, json!("done")));
    assert_eq!(deployment.executions("jobs:nightly"), 1);
    assert!(!format!("{:?}", SharedSecret::cron("cron-s3cret")).contains("s3cret"));
}

#[tokio::test]
async fn with_auth_scopes_a_token_outside_axum_too() {
    let deployment = deployment().await;
    let client = deployment.client();
    let me = || client.query::<_, Option<String>>("users:me", json!({}));
    let inside = client
        .with_auth("jwt-of-ada", async { me().await })
        .await
        .unwrap();
    assert_eq!(inside.as_deref(), Some("ada"));
    assert_eq!(me().await.unwrap(), None, "the scope ended");
}

mod sessions {
    use super::*;
    use axum::http::HeaderMap;
    use base64::Engine as _;
    use convex::axum::forward_session_to;
    use convex::token::{BetterAuth, CachedTokens};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};

    /// A JWT (unsigned: the test deployment matches tokens by their text) that expires in `secs`.
    fn jwt(subject: &str, secs: u64) -> String {
        let exp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + secs;
        let part = |s: String| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!(
            "{}.{}.sig",
            part(r#"{"alg":"none"}"#.to_owned()),
            part(json!({ "sub": subject, "exp": exp }).to_string())
        )
    }

    /// Better Auth's token endpoint: the session `ada-session` gets `token`; any other a 401; `broken` a 500.
    async fn token_endpoint(token: String, fetches: Arc<AtomicUsize>) -> String {
        let app = Router::new().route(
            "/api/auth/convex/token",
            get(move |headers: HeaderMap| {
                let (token, fetches) = (token.clone(), fetches.clone());
                async move {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    let cookie = headers
                        .get("cookie")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    if cookie.contains("better-auth.session_token=broken") {
                        (StatusCode::INTERNAL_SERVER_ERROR, String::new())
                    } else if cookie.contains("better-auth.session_token=ada-session") {
                        (StatusCode::OK, json!({ "token": token }).to_string())
                    } else {
                        (StatusCode::UNAUTHORIZED, String::new())
                    }
                }
            }),
        );
        examples::spawn(app).await.unwrap()
    }

    async fn profile_app(
        site: &str,
        token: &str,
        refresh_before: Duration,
    ) -> (String, TestDeployment) {
        let deployment = TestDeployment::builder()
            .query("users:me", |ctx: Ctx, _args: Value| async move {
                Ok(ctx.identity().and_then(|i| i.get("subject").cloned()))
            })
            .token(token, json!({ "subject": "ada" }))
            .start()
            .await;
        let tokens = Arc::new(
            CachedTokens::new(BetterAuth::new(site).unwrap()).refresh_before(refresh_before),
        );
        async fn profile(State(client): State<Client>) -> Result<Json<Option<String>>, Error> {
            Ok(Json(client.query("users:me", json!({})).await?))
        }
        let app = Router::new()
            .route("/api/user/profile", get(profile))
            .route_layer(forward_session_to(deployment.client(), tokens))
            .with_state(deployment.client());
        (examples::spawn(app).await.unwrap(), deployment)
    }

    async fn get_profile(base: &str, cookie: Option<&str>) -> (StatusCode, Value) {
        let mut request = reqwest::Client::new().get(format!("{base}/api/user/profile"));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        json_of(request.send().await.unwrap()).await
    }

    #[tokio::test]
    async fn a_session_is_exchanged_once_for_all_its_concurrent_requests() {
        let fetches = Arc::new(AtomicUsize::new(0));
        let token = jwt("ada", 3600);
        let site = token_endpoint(token.clone(), fetches.clone()).await;
        let (base, _deployment) = profile_app(&site, &token, Duration::from_secs(60)).await;
        let cookie = "theme=dark; better-auth.session_token=ada-session";
        let requests = (0..20).map(|_| {
            let base = base.clone();
            tokio::spawn(async move { get_profile(&base, Some(cookie)).await })
        });
        for request in requests.collect::<Vec<_>>() {
            assert_eq!(request.await.unwrap(), (StatusCode::OK, json!("ada")));
        }
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            1,
            "one exchange, then the cache"
        );
        get_profile(&base, Some(cookie)).await;
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_token_close_to_its_expiry_is_replaced() {
        let fetches = Arc::new(AtomicUsize::new(0));
        // Expires in 30 s, refreshed from 60 s before: every request needs a new one.
        let token = jwt("ada", 30);
        let site = token_endpoint(token.clone(), fetches.clone()).await;
        let (base, _deployment) = profile_app(&site, &token, Duration::from_secs(60)).await;
        for _ in 0..3 {
            let answer = get_profile(&base, Some("better-auth.session_token=ada-session")).await;
            assert_eq!(answer, (StatusCode::OK, json!("ada")));
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn no_session_or_a_refused_one_is_401_and_a_failing_endpoint_502() {
        let fetches = Arc::new(AtomicUsize::new(0));
        let token = jwt("ada", 3600);
        let site = token_endpoint(token.clone(), fetches.clone()).await;
        let (base, deployment) = profile_app(&site, &token, Duration::from_secs(60)).await;
        let unauthorized = (StatusCode::UNAUTHORIZED, json!({ "error": "Unauthorized" }));
        assert_eq!(get_profile(&base, None).await, unauthorized);
        assert_eq!(
            get_profile(&base, Some("better-auth.session_token=eve")).await,
            unauthorized
        );
        assert_eq!(
            get_profile(&base, Some("better-auth.session_token=broken")).await,
            (StatusCode::BAD_GATEWAY, json!({ "error": "Bad Gateway" }))
        );
        assert_eq!(deployment.executions("users:me"), 0, "no handler ran");

        // An endpoint that cannot be reached at all is a 502 too.
        let (down, _deployment) =
            profile_app("http://127.0.0.1:9", &token, Duration::from_secs(60)).await;
        assert_eq!(
            get_profile(&down, Some("better-auth.session_token=ada-session"))
                .await
                .0,
            StatusCode::BAD_GATEWAY
        );
    }
}

/// A scoped credential goes only to the deployment it was opened for, and never replaces a credential of the
/// call or of its client.
mod scopes {
    use super::*;
    use convex::axum::forward_auth;
    use convex::{FetchOptions, Untyped};
    use convex_fetch_testing::{Auth, HttpActionRequest};
    use futures_util::StreamExt;

    /// A deployment that records who called it: ada's token is known; anything else it is sent is recorded.
    async fn with_users_me(admin_key: Option<&str>) -> TestDeployment {
        let mut builder = TestDeployment::builder()
            .query("users:me", |ctx: Ctx, _args: Value| async move {
                Ok(ctx.identity().and_then(|i| i.get("subject").cloned()))
            })
            .http_route("GET", "/who", |request: HttpActionRequest| async move {
                axum::Json(request.identity().map(|i| i["subject"].clone()))
            })
            .token("jwt-of-ada", json!({ "subject": "ada" }));
        if let Some(key) = admin_key {
            builder = builder.admin_key(key);
        }
        builder.start().await
    }

    fn me(client: &Client) -> convex::Call<Untyped<Value, Option<String>>> {
        client.query("users:me", json!({})).returning()
    }

    /// Every way a call reaches `partner` from inside a scope that is not for it: a call through its client,
    /// a `fetch_query` to its URL, an HTTP action, a live subscription. None may carry a credential.
    async fn calls_to(partner: &TestDeployment) {
        let client = partner.client();
        assert_eq!(me(&client).await.unwrap(), None);
        let fetched: Option<String> = convex::fetch_query(
            partner.url(),
            Untyped::query("users:me", json!({})),
            FetchOptions::new(),
        )
        .await
        .unwrap();
        assert_eq!(fetched, None);
        let who: Value = client
            .http_request(convex::Method::GET, "/who")
            .await
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(who, Value::Null);
        let mut live = me(&client).subscribe();
        let first = tokio::time::timeout(Duration::from_secs(10), live.next())
            .await
            .expect("a first value")
            .expect("the stream goes on");
        assert_eq!(first.unwrap(), None);
    }

    /// What `partner` was sent: no call, HTTP request or sync message carried a token.
    fn assert_no_credential_reached(partner: &TestDeployment) {
        assert!(!partner.calls().is_empty());
        for call in partner.calls() {
            assert_eq!(call.auth, Auth::None, "{call:?}");
        }
        for request in partner.http_requests() {
            assert_eq!(request.auth, Auth::None, "{request:?}");
        }
        let messages = partner.sync_messages();
        assert!(!messages.is_empty());
        for message in messages {
            assert!(
                !message.to_string().contains("jwt-of-ada") && message["type"] != "Authenticate",
                "{message}"
            );
        }
    }

    /// It installs the default client, which is process-wide: it runs in a process of its own.
    #[tokio::test]
    async fn with_auth_and_forward_auth_are_for_the_default_clients_deployment_only() {
        if !crate::support::alone(
            module_path!(),
            "with_auth_and_forward_auth_are_for_the_default_clients_deployment_only",
        ) {
            return;
        }
        let home = with_users_me(None).await;
        let partner = with_users_me(None).await;
        convex::set_default_client(home.client()).unwrap();

        let (at_home, ()) = convex::with_auth("jwt-of-ada", async {
            let at_home = convex::default_client()
                .unwrap()
                .query::<_, Option<String>>("users:me", json!({}))
                .await;
            calls_to(&partner).await;
            (at_home, ())
        })
        .await;
        assert_eq!(at_home.unwrap().as_deref(), Some("ada"));
        assert_no_credential_reached(&partner);

        // The middleware: a handler calling its own deployment and a partner's.
        async fn both(State(partner): State<Client>) -> Result<Json<Value>, Error> {
            let home: Option<String> = convex::default_client()?
                .query("users:me", json!({}))
                .await?;
            let partner: Option<String> = partner.query("users:me", json!({})).await?;
            Ok(Json(json!([home, partner])))
        }
        let app = Router::new()
            .route("/both", get(both))
            .layer(forward_auth())
            .with_state(partner.client());
        let base = examples::spawn(app).await.unwrap();
        partner.clear_calls();
        let response = reqwest::Client::new()
            .get(format!("{base}/both"))
            .bearer_auth("jwt-of-ada")
            .send()
            .await
            .unwrap();
        assert_eq!(
            json_of(response).await,
            (StatusCode::OK, json!(["ada", null]))
        );
        assert_eq!(partner.calls()[0].auth, Auth::None);
    }

    #[tokio::test]
    async fn a_clients_scope_reaches_only_that_clients_deployment() {
        let home = with_users_me(None).await;
        let partner = with_users_me(None).await;
        let client = home.client();
        let at_home = client
            .with_auth("jwt-of-ada", async {
                let at_home = me(&client).await;
                calls_to(&partner).await;
                at_home
            })
            .await;
        assert_eq!(at_home.unwrap().as_deref(), Some("ada"));
        assert_no_credential_reached(&partner);
    }

    #[tokio::test]
    async fn a_credential_of_the_client_or_the_call_is_never_replaced_by_a_scope() {
        let home = with_users_me(Some("home-admin-key")).await;
        let admin = Client::builder(home.url())
            .admin_key("home-admin-key")
            .build()
            .unwrap();
        admin
            .with_auth("jwt-of-ada", async {
                assert_eq!(me(&admin).await.unwrap(), None);
                let who = admin
                    .http_request(convex::Method::GET, "/who")
                    .await
                    .unwrap();
                assert_eq!(who.status(), StatusCode::OK);
                let mut live = me(&admin).subscribe();
                let first = tokio::time::timeout(Duration::from_secs(10), live.next())
                    .await
                    .expect("a first value")
                    .expect("the stream goes on");
                assert_eq!(first.unwrap(), None);
                // A call's own credential wins too.
                let anonymous = home.client();
                let own = me(&anonymous).admin_key("home-admin-key").await.unwrap();
                assert_eq!(own, None);
            })
            .await;
        for call in home.calls() {
            assert_eq!(call.auth, Auth::Admin, "{call:?}");
        }
        assert_eq!(home.http_requests()[0].auth, Auth::Admin);
        let authenticate: Vec<Value> = home
            .sync_messages()
            .into_iter()
            .filter(|m| m["type"] == "Authenticate")
            .collect();
        assert_eq!(authenticate.len(), 1, "{authenticate:?}");
        assert_eq!(authenticate[0]["tokenType"], "Admin", "{authenticate:?}");
        assert!(!authenticate[0].to_string().contains("jwt-of-ada"));
    }
}

#[test]
fn an_empty_shared_secret_matches_nothing_and_a_set_one_only_itself() {
    let header = |value: Option<&str>| {
        let mut headers = axum::http::HeaderMap::new();
        if let Some(value) = value {
            headers.insert("x-cron-secret", value.parse().unwrap());
        }
        headers
    };
    let unset = SharedSecret::cron("");
    for given in [None, Some(""), Some("x")] {
        assert!(!unset.verify(&header(given)), "{given:?}");
    }
    let set = SharedSecret::cron("s3cret");
    assert!(set.verify(&header(Some("s3cret"))));
    for given in [
        None,
        Some(""),
        Some("s3cre"),
        Some("s3crets"),
        Some("S3cret"),
    ] {
        assert!(!set.verify(&header(given)), "{given:?}");
    }
}
