//! HTTP actions over real sockets: routes of `api!` and plain paths on the site URL, the call's credentials,
//! retries that never repeat a write that may have run, the timeout, the size cap, and bad input.

use convex::{Client, Error, ErrorKind, HttpCall, HttpRoute, Method, RetryPolicy, StatusCode};
use convex_fetch_testing::{Auth, Fault, HttpActionRequest, TestDeployment};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const POST_WEBHOOK: HttpRoute = HttpRoute {
    method: "POST",
    path: "/webhook",
};
const GET_FILES: HttpRoute = HttpRoute {
    method: "GET",
    path: "/files/*",
};
const GET_POSTS: HttpRoute = HttpRoute {
    method: "GET",
    path: "/posts",
};

/// Echoes what the action saw, as JSON.
async fn echo(request: HttpActionRequest) -> axum::Json<Value> {
    axum::Json(json!({
        "method": request.method(),
        "path": request.path(),
        "status": request.query("status"),
        "header": request.header("x-custom"),
        "body": String::from_utf8_lossy(request.body()),
        "user": request.identity().map(|identity| identity["subject"].clone()),
    }))
}

async fn deployment() -> TestDeployment {
    TestDeployment::builder()
        .token(
            "jwt-ada",
            json!({ "subject": "ada", "issuer": "https://auth.example.com" }),
        )
        .token(
            "jwt-bob",
            json!({ "subject": "bob", "issuer": "https://auth.example.com" }),
        )
        .http_route("GET", "/posts", echo)
        .http_route("POST", "/webhook", echo)
        .http_route("GET", "/files/", echo)
        .http_route("GET", "/files/special/", |_r: HttpActionRequest| async {
            "special"
        })
        .http_route("GET", "/missing", |_r: HttpActionRequest| async {
            (StatusCode::NOT_FOUND, "no such post")
        })
        .start()
        .await
}

/// What failed in a plain HTTP request.
fn problem(err: &Error) -> &ErrorKind {
    assert!(err.request().is_some(), "not an HTTP error: {err:?}");
    err.kind()
}

#[tokio::test]
async fn a_route_is_called_on_the_site_url_with_query_headers_and_body() {
    let deployment = deployment().await;
    let client = deployment.client();
    assert_eq!(client.site_url(), deployment.site_url());
    assert!(
        client.site_url().ends_with("/http"),
        "{}",
        client.site_url()
    );

    let answer = client
        .http(GET_POSTS)
        .query("status", "draft & more")
        .header("x-custom", "yes")
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let seen: Value = answer.json().unwrap();
    assert_eq!(seen["path"], "/posts");
    assert_eq!(seen["status"], "draft & more");
    assert_eq!(seen["header"], "yes");

    let answer = client
        .http(POST_WEBHOOK)
        .json(&json!({ "event": "paid" }))
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let seen: Value = answer.json().unwrap();
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["body"], r#"{"event":"paid"}"#);

    let recorded = deployment.http_requests();
    assert_eq!(recorded.len(), 2);
    assert_eq!(
        (recorded[0].method.as_str(), recorded[0].path.as_str()),
        ("GET", "/posts")
    );
    assert_eq!(recorded[0].query.as_deref(), Some("status=draft+%26+more"));
    assert!(
        recorded[0]
            .headers
            .contains(&("x-custom".to_owned(), "yes".to_owned()))
    );
    assert_eq!(recorded[1].body, br#"{"event":"paid"}"#);
    assert!(
        recorded[1]
            .headers
            .contains(&("content-type".to_owned(), "application/json".to_owned()))
    );
    // HTTP actions are not function calls.
    assert!(deployment.calls().is_empty());
}

#[tokio::test]
async fn the_credential_comes_from_the_call_the_scope_or_the_client() {
    let deployment = deployment().await;
    let user = |answer: convex::HttpResponse| answer.json::<Value>().unwrap()["user"].clone();

    let anonymous = deployment.client();
    assert_eq!(user(anonymous.http(GET_POSTS).await.unwrap()), Value::Null);
    assert_eq!(
        user(anonymous.http(GET_POSTS).auth("jwt-ada").await.unwrap()),
        "ada"
    );
    let scoped = anonymous
        .with_auth("jwt-bob", anonymous.http(GET_POSTS).into_future())
        .await;
    assert_eq!(user(scoped.unwrap()), "bob");

    let default_ada = Client::builder(deployment.url())
        .auth("jwt-ada")
        .build()
        .unwrap();
    assert_eq!(user(default_ada.http(GET_POSTS).await.unwrap()), "ada");
    // The call's own credential wins over the client's.
    assert_eq!(
        user(default_ada.http(GET_POSTS).auth("jwt-bob").await.unwrap()),
        "bob"
    );

    let auths: Vec<Auth> = deployment
        .http_requests()
        .into_iter()
        .map(|r| r.auth)
        .collect();
    assert_eq!(auths[0], Auth::None);
    assert!(matches!(&auths[1], Auth::Bearer { token, .. } if token == "jwt-ada"));
    // The recorded headers never hold the credential.
    for request in deployment.http_requests() {
        assert!(
            request
                .headers
                .iter()
                .all(|(name, _)| name != "authorization")
        );
    }
}

#[tokio::test]
async fn a_prefix_route_takes_the_rest_of_its_path() {
    let deployment = deployment().await;
    let client = deployment.client();
    let seen: Value = client
        .http(GET_FILES)
        .subpath("reports/2024 q1.pdf")
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(seen["path"], "/files/reports/2024%20q1.pdf");
    // The longest prefix wins.
    let answer = client.http(GET_FILES).subpath("special/x").await.unwrap();
    assert_eq!(answer.text().unwrap(), "special");

    for bad in [
        client.http(GET_FILES),
        client.http(GET_FILES).subpath("../admin"),
        client.http(GET_FILES).subpath("a/./b"),
        client.http(POST_WEBHOOK).subpath("x"),
        client.http_request(Method::GET, "posts"),
        client.http_request(Method::GET, "/posts?status=draft"),
        client
            .http(GET_POSTS)
            .header("Authorization", "Bearer jwt-ada"),
        client.http(GET_POSTS).header("bad name", "x"),
        client.http(GET_POSTS).header("x-ok", "line\nbreak"),
        client.http(HttpRoute {
            method: "G E T",
            path: "/posts",
        }),
    ] {
        let err = bad.await.unwrap_err();
        assert!(matches!(problem(&err), ErrorKind::Invalid { .. }), "{err}");
        assert!(err.provably_not_run(), "{err}");
    }
    // Only the two good requests reached the deployment.
    assert_eq!(deployment.http_requests().len(), 2);
}

/// A subpath is text: each segment percent-encoded, `%` and `\` included; a dot segment, however disguised
/// (percent-encoded, encoded twice, after a backslash), is refused before anything is sent, with the token.
#[tokio::test]
async fn a_subpath_cannot_climb_out_of_its_prefix_however_it_is_written() {
    let deployment = deployment().await;
    let client = deployment.client();
    for escape in [
        ".%2e/admin",
        "%2e./admin",
        "%2e%2e/admin",
        "%2E%2E/admin",
        "..\\..\\api\\admin",
        "a\\..\\..\\admin",
        "..%2fadmin",
        "..%5c..%5capi%5cadmin",
        "%252e%252e/admin",
        "%25252e%25252e/%25252e%25252e/admin",
        "a/../../admin",
        "./admin",
        "..",
    ] {
        let err = client
            .http(GET_FILES)
            .subpath(escape)
            .auth("jwt-ada")
            .await
            .unwrap_err();
        assert!(
            matches!(problem(&err), ErrorKind::Invalid { message, .. } if message.contains("could leave the prefix")),
            "{escape}: {err}"
        );
        // A whole path written with the same escapes is refused too.
        let whole = format!("/files/{escape}");
        let err = client
            .http_request(Method::GET, whole.as_str())
            .auth("jwt-ada")
            .await
            .unwrap_err();
        assert!(
            matches!(problem(&err), ErrorKind::Invalid { .. }),
            "{whole}: {err}"
        );
    }
    assert!(deployment.http_requests().is_empty(), "nothing was sent");

    // What is not an escape is encoded to read back as written.
    for (text, sent) in [
        ("50% off.pdf", "/files/50%25%20off.pdf"),
        ("a?b#c", "/files/a%3Fb%23c"),
        ("back\\slash", "/files/back%5Cslash"),
        ("a..b/...", "/files/a..b/..."),
        ("50%2", "/files/50%252"),
    ] {
        let seen: Value = client
            .http(GET_FILES)
            .subpath(text)
            .await
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(seen["path"], sent, "{text}");
    }
}

#[tokio::test]
async fn a_non_2xx_answer_is_an_answer_until_asked_otherwise() {
    let deployment = deployment().await;
    let client = deployment.client();
    let answer = client.http_request(Method::GET, "/missing").await.unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    assert_eq!(answer.text().unwrap(), "no such post");
    let err = answer.error_for_status().unwrap_err();
    assert!(
        matches!(problem(&err), ErrorKind::Status { status, body, .. } if *status == StatusCode::NOT_FOUND && body == "no such post"),
        "{err}"
    );
    assert_eq!(err.status_code(), StatusCode::BAD_GATEWAY);
    assert!(
        matches!(err.request(), Some(HttpCall::Action { method, path }) if method == "GET" && path == "/missing")
    );
    assert!(
        err.to_string().contains("HTTP action `GET /missing`"),
        "{err}"
    );

    // No route: the deployment's own 404.
    let answer = client.http_request(Method::DELETE, "/posts").await.unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    assert_eq!(answer.text().unwrap(), "No matching routes found");

    let err = client
        .http(GET_POSTS)
        .await
        .unwrap()
        .json::<Vec<u32>>()
        .unwrap_err();
    assert!(matches!(problem(&err), ErrorKind::Decode { .. }), "{err}");
}

#[tokio::test]
async fn get_is_retried_after_a_transient_failure() {
    let deployment = deployment().await;
    let client = deployment.client();
    deployment.fail_next(1, Fault::system(503, "Overloaded", "busy"));
    deployment.fail_next(1, Fault::DropConnection);
    let answer = client.http(GET_POSTS).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(
        deployment.http_requests().len(),
        1,
        "the faults struck before the action"
    );
    assert_eq!(deployment.pending_faults(), 0);

    // Out of attempts, the last answer is returned as it is.
    let client = Client::builder(deployment.url())
        .retry(
            RetryPolicy::default()
                .max_attempts(2)
                .base_delay(Duration::from_millis(1)),
        )
        .build()
        .unwrap();
    deployment.fail_next(2, Fault::system(503, "Overloaded", "busy"));
    let answer = client.http(GET_POSTS).await.unwrap();
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(deployment.pending_faults(), 0);
}

#[tokio::test]
async fn a_post_that_may_have_run_is_never_repeated() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let deployment = TestDeployment::builder()
        .http_route("POST", "/webhook", move |_r: HttpActionRequest| {
            counted.fetch_add(1, Ordering::SeqCst);
            async { (StatusCode::SERVICE_UNAVAILABLE, "the action's own 503") }
        })
        .start()
        .await;
    let client = deployment.client();

    // Its answer lost after it ran: an error that says it may have run, and one run.
    deployment.fail_next(1, Fault::DropAfterRun);
    let err = client.http(POST_WEBHOOK).body("x").await.unwrap_err();
    assert!(
        matches!(problem(&err), ErrorKind::Transport { sent: true, .. }),
        "{err}"
    );
    assert!(!err.provably_not_run());
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // A 503 of the action itself is its answer, sent once.
    let answer = client.http(POST_WEBHOOK).await.unwrap();
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    // The deployment's refusal before running anything is retried.
    deployment.fail_next(1, Fault::system(429, "TooManyConcurrentRequests", "busy"));
    deployment.fail_next(1, Fault::system(503, "ExpiredInQueue", "late"));
    let answer = client.http(POST_WEBHOOK).await.unwrap();
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(runs.load(Ordering::SeqCst), 3);

    // A 502 from a proxy may follow a run: not retried.
    deployment.fail_next(1, Fault::html(502, "<html>Bad Gateway</html>"));
    let answer = client.http(POST_WEBHOOK).await.unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    assert_eq!(deployment.pending_faults(), 0);
}

#[tokio::test]
async fn the_timeout_and_the_size_cap_hold() {
    let deployment = TestDeployment::builder()
        .http_route("GET", "/slow", |_r: HttpActionRequest| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late"
        })
        .http_route("GET", "/big", |_r: HttpActionRequest| async {
            vec![b'x'; 4096]
        })
        .start()
        .await;
    let client = Client::builder(deployment.url())
        .max_response_bytes(1024)
        .build()
        .unwrap();
    let err = client
        .http_request(Method::GET, "/slow")
        .timeout(Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(
        matches!(problem(&err), ErrorKind::Timeout { sent: true, .. }),
        "{err}"
    );
    assert_eq!(err.status_code(), StatusCode::GATEWAY_TIMEOUT);

    let err = client.http_request(Method::GET, "/big").await.unwrap_err();
    assert!(
        matches!(problem(&err), ErrorKind::TooLarge { limit: 1024, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn the_site_url_can_be_configured() {
    let deployment = deployment().await;
    // A client whose deployment URL is elsewhere, with the site URL set: the request goes to the site URL.
    let client = Client::builder("https://happy-otter-123.convex.cloud")
        .site_url(deployment.site_url())
        .build()
        .unwrap();
    let answer = client.http(GET_POSTS).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let cloud = Client::new("https://happy-otter-123.convex.cloud").unwrap();
    assert_eq!(cloud.site_url(), "https://happy-otter-123.convex.site");
}

#[tokio::test]
async fn no_credential_or_query_value_reaches_debug_output_or_errors() {
    let deployment = deployment().await;
    let client = deployment.client();
    let request = client
        .http(GET_POSTS)
        .auth("jwt-secret-token")
        .query("signature", "sig-secret-value")
        .header("x-api-key", "key-secret-value");
    let shown = format!("{request:?}");
    for secret in ["jwt-secret-token", "sig-secret-value", "key-secret-value"] {
        assert!(!shown.contains(secret), "{shown}");
    }
    deployment.set_latency(Duration::from_millis(500));
    let timed_out = client
        .http(GET_POSTS)
        .auth("jwt-secret-token")
        .query("signature", "sig-secret-value")
        .timeout(Duration::from_millis(50))
        .await
        .unwrap_err();
    deployment.set_latency(Duration::ZERO);
    // Nothing listens on the site URL: the connect error names no URL.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/http", closed.local_addr().unwrap());
    drop(closed);
    let unreachable = Client::builder(deployment.url())
        .site_url(dead)
        .auth("jwt-secret-token")
        .build()
        .unwrap()
        .http(GET_POSTS)
        .query("signature", "sig-secret-value")
        .await
        .unwrap_err();
    assert!(
        matches!(problem(&unreachable), ErrorKind::Transport { .. }),
        "{unreachable}"
    );
    for err in [timed_out, unreachable] {
        let shown = format!("{err} {err:?}");
        assert!(
            !shown.contains("jwt-secret-token") && !shown.contains("sig-secret-value"),
            "{shown}"
        );
    }
    let answer = client.http(GET_POSTS).await.unwrap();
    assert!(!format!("{answer:?}").contains("application/json"));
}
