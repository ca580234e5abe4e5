//! The test deployment over raw HTTP: exact bodies where the protocol fixes them.

use super::format::clean;
use super::*;
use base64::Engine as _;
use convex_fetch::value;
use convex_fetch::value::Value as ConvexValue;
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Instant;

#[derive(Deserialize)]
struct Greet {
    name: String,
}

fn builder() -> TestDeploymentBuilder {
    TestDeployment::builder()
        .query("greet:hello", |ctx: Ctx, args: Greet| async move {
            ctx.log(format!("greeting {}", args.name));
            ctx.warn("careful");
            Ok(format!("hello {}", args.name))
        })
        .query("posts:list", |_ctx: Ctx, _args: Value| async move {
            Ok(json!([{ "title": "first" }]))
        })
        .query("numbers:answer", |_ctx: Ctx, _args: Value| async move {
            Ok(42_i64)
        })
        .mutation("tasks:create", |ctx: Ctx, args: Value| async move {
            ctx.info("created");
            Ok(args)
        })
        .action("ai:run", |_ctx: Ctx, _args: Value| async move { Ok(()) })
        .query("fail:plain", |ctx: Ctx, _args: Value| async move {
            ctx.error("about to throw");
            Err::<(), _>(FunctionError::message("boom"))
        })
        .query("fail:convex", |_ctx: Ctx, _args: Value| async move {
            Err::<(), _>(FunctionError::convex(json!({ "code": "E1", "n": 2.0 })))
        })
        .query("fail:convexString", |_ctx: Ctx, _args: Value| async move {
            Err::<(), _>(FunctionError::convex("nope"))
        })
        .query("fail:panic", |_ctx: Ctx, _args: Value| async move {
            if true {
                panic!("handler exploded");
            }
            Ok(())
        })
        .query("users:me", |ctx: Ctx, _args: Value| async move {
            Ok(json!({ "identity": ctx.identity(), "admin": ctx.is_admin() }))
        })
        .internal_mutation("admin:purge", |ctx: Ctx, _args: Value| async move {
            Ok(ctx.is_admin())
        })
        .token(
            "good-token",
            json!({ "subject": "user_1", "issuer": "https://auth.example.com" }),
        )
}

async fn start() -> TestDeployment {
    builder().start().await
}

/// Posts `body` as text with extra headers: the status, the headers and the body text.
async fn post_raw(
    deployment: &TestDeployment,
    endpoint: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{endpoint}", deployment.url()))
        .header("Content-Type", "application/json")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

/// Posts a JSON body: the status and the body text.
async fn post(deployment: &TestDeployment, endpoint: &str, body: Value) -> (u16, String) {
    let (status, _, text) = post_raw(deployment, endpoint, &body.to_string(), &[]).await;
    (status, text)
}

async fn post_with(
    deployment: &TestDeployment,
    endpoint: &str,
    body: Value,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let (status, _, text) = post_raw(deployment, endpoint, &body.to_string(), headers).await;
    (status, serde_json::from_str(&text).unwrap())
}

fn encoded(path: &str, args: Value) -> Value {
    json!({ "path": path, "args": args, "format": "convex_encoded_json" })
}

#[tokio::test]
async fn success_bodies_are_exact_and_omit_empty_log_lines() {
    let deployment = start().await;
    let (status, body) = post(&deployment, "/api/query", encoded("posts:list", json!({}))).await;
    assert_eq!(status, 200);
    assert_eq!(body, r#"{"status":"success","value":[{"title":"first"}]}"#);

    let (status, body) = post(
        &deployment,
        "/api/query",
        encoded("greet:hello", json!({ "name": "ada" })),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        r#"{"status":"success","value":"hello ada","logLines":["[LOG] greeting ada","[WARN] careful"]}"#
    );

    // A function returning nothing answers null.
    let (_, body) = post(&deployment, "/api/action", encoded("ai:run", json!({}))).await;
    assert_eq!(body, r#"{"status":"success","value":null}"#);
}

/// `body` with each request id (checked to be 16 lowercase hex digits, as the backend's) replaced by `ID`.
fn ids_hidden(body: &str) -> String {
    const PREFIX: &str = "[Request ID: ";
    let mut out = String::new();
    let mut rest = body;
    while let Some(at) = rest.find(PREFIX) {
        let (head, tail) = rest.split_at(at + PREFIX.len());
        let id = &tail[..16];
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                && tail[16..].starts_with(']'),
            "{body}"
        );
        out.push_str(head);
        out.push_str("ID");
        rest = &tail[16..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn function_errors_with_and_without_data() {
    let deployment = start().await;
    let (status, body) = post(&deployment, "/api/query", encoded("fail:plain", json!({}))).await;
    assert_eq!(status, 200);
    assert_eq!(
        ids_hidden(&body),
        r#"{"status":"error","errorMessage":"[Request ID: ID] Server Error\nUncaught Error: boom\n    at handler (../convex/fail.ts:1:1)\n","logLines":["[ERROR] about to throw"]}"#
    );

    let (status, body) = post(&deployment, "/api/query", encoded("fail:convex", json!({}))).await;
    assert_eq!(status, 200);
    assert_eq!(
        ids_hidden(&body),
        r#"{"status":"error","errorMessage":"[Request ID: ID] Server Error\nUncaught ConvexError: {\"code\":\"E1\",\"n\":2}\n    at handler (../convex/fail.ts:1:1)\n","errorData":{"code":"E1","n":2.0}}"#
    );

    let (_, body) = post(
        &deployment,
        "/api/query",
        encoded("fail:convexString", json!({})),
    )
    .await;
    assert_eq!(
        ids_hidden(&body),
        r#"{"status":"error","errorMessage":"[Request ID: ID] Server Error\nUncaught ConvexError: nope\n    at handler (../convex/fail.ts:1:1)\n","errorData":"nope"}"#
    );
}

#[tokio::test]
async fn redacted_errors_keep_the_request_id_and_the_data_only() {
    let deployment = builder().redact_errors().start().await;
    let (_, plain) = post(&deployment, "/api/query", encoded("fail:plain", json!({}))).await;
    assert_eq!(
        ids_hidden(&plain),
        r#"{"status":"error","errorMessage":"[Request ID: ID] Server Error","logLines":["[ERROR] about to throw"]}"#
    );
    let (_, convex) = post(&deployment, "/api/query", encoded("fail:convex", json!({}))).await;
    assert_eq!(
        ids_hidden(&convex),
        r#"{"status":"error","errorMessage":"[Request ID: ID] Server Error","errorData":{"code":"E1","n":2.0}}"#
    );
    // Each request has its own id.
    assert_ne!(plain[..60], convex[..60]);
}

#[tokio::test]
async fn a_panicking_handler_fails_its_call() {
    let deployment = start().await;
    let (status, body) = post(&deployment, "/api/query", encoded("fail:panic", json!({}))).await;
    assert_eq!(status, 200);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["status"], "error");
    let message = body["errorMessage"].as_str().unwrap();
    assert!(message.contains("handler exploded"), "{message}");
}

#[tokio::test]
async fn args_that_do_not_decode_fail_validation_without_running() {
    let deployment = start().await;
    let (status, body) = post(&deployment, "/api/query", encoded("greet:hello", json!({}))).await;
    assert_eq!(status, 200);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["status"], "error");
    let message = body["errorMessage"].as_str().unwrap();
    assert!(
        ids_hidden(message).starts_with("[Request ID: ID] Server Error\nArgumentValidationError: "),
        "{message}"
    );
    assert!(body.get("logLines").is_none());
    assert_eq!(deployment.executions("greet:hello"), 0);
    assert_eq!(deployment.calls().len(), 1);

    // Args that are not an object fail the same way.
    let (status, body) = post(&deployment, "/api/query", encoded("greet:hello", json!(3))).await;
    assert_eq!(status, 200);
    assert!(body.contains("ArgumentValidationError"), "{body}");
}

#[tokio::test]
async fn unknown_paths_and_wrong_kinds_are_function_failures() {
    let deployment = start().await;
    let (status, body) = post(&deployment, "/api/query", encoded("posts:lst", json!({}))).await;
    assert_eq!(status, 200);
    assert_eq!(
        ids_hidden(&body),
        r#"{"status":"error","errorMessage":"[Request ID: ID] Server Error\nCould not find public function for 'posts:lst'.\n"}"#
    );

    let (status, body) = post(
        &deployment,
        "/api/mutation",
        encoded("posts.js:list", json!({})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        ids_hidden(&body),
        r#"{"status":"error","errorMessage":"[Request ID: ID] Server Error\nTrying to execute posts.js:list as Mutation, but it is defined as Query.\n"}"#
    );

    let (_, body) = post(
        &deployment,
        "/api/action",
        encoded("tasks:create", json!({})),
    )
    .await;
    assert!(
        body.contains(
            "Trying to execute tasks.js:create as Action, but it is defined as Mutation."
        ),
        "{body}"
    );
}

#[tokio::test]
async fn bad_paths_are_400() {
    let deployment = start().await;
    for path in ["posts::list", ":list", "posts:", ""] {
        let (status, body) = post(&deployment, "/api/query", encoded(path, json!({}))).await;
        assert_eq!(status, 400, "{path}");
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            json!({
                "code": "BadConvexFunctionIdentifier",
                "message": format!("{path} is not a valid path to a Convex function."),
            })
        );
    }
    // A module alone is its default export; `.js` is optional.
    let deployment = TestDeployment::builder()
        .query("stats", |_ctx: Ctx, _args: Value| async move { Ok(1.5) })
        .start()
        .await;
    for path in ["stats", "stats.js", "stats:default", "stats.js:default"] {
        let (_, body) = post(&deployment, "/api/query", encoded(path, json!({}))).await;
        assert_eq!(body, r#"{"status":"success","value":1.5}"#, "{path}");
    }
    assert!(deployment.calls().iter().all(|c| c.path == "stats:default"));
}

#[tokio::test]
async fn formats() {
    let deployment = start().await;
    let body = json!({ "path": "posts:list", "args": {}, "format": "xml" });
    let (status, body) = post(&deployment, "/api/query", body).await;
    assert_eq!(status, 400);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["code"], "BadFormat");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));

    // The encoded format sends the codec's encoding; `json`, its alias and an absent format the clean one.
    // A Rust `i64` travels as the float64 it is to Convex, written as the backend writes a float: `42.0`.
    let exact = value::to_value(&ConvexValue::Float64(42.0)).unwrap();
    assert_eq!(exact.to_string(), "42.0");
    let (_, body) = post_with(
        &deployment,
        "/api/query",
        encoded("numbers:answer", json!({})),
        &[],
    )
    .await;
    assert_eq!(body["value"], exact);
    for format in [json!("json"), json!("convex_clean_json"), Value::Null] {
        let mut request = json!({ "path": "numbers:answer", "args": {} });
        if !format.is_null() {
            request["format"] = format;
        }
        let (status, body) = post_with(&deployment, "/api/query", request, &[]).await;
        assert_eq!(status, 200);
        assert_eq!(body["value"], clean(exact.clone()));
    }
}

#[tokio::test]
async fn legacy_array_args_and_missing_args() {
    let deployment = start().await;
    let (_, body) = post(
        &deployment,
        "/api/query",
        encoded("greet:hello", json!([{ "name": "bob" }])),
    )
    .await;
    assert!(body.contains(r#""value":"hello bob""#), "{body}");
    let (_, body) = post(
        &deployment,
        "/api/mutation",
        json!({ "path": "tasks:create", "format": "convex_encoded_json" }),
    )
    .await;
    assert_eq!(
        body,
        r#"{"status":"success","value":{},"logLines":["[INFO] created"]}"#
    );
    let calls = deployment.calls();
    assert_eq!(calls[0].args, convex_fetch::value!({ name: "bob" }));
    assert_eq!(calls[1].args, convex_fetch::value!({}));
}

#[tokio::test]
async fn run_endpoint_takes_the_kind_of_the_function() {
    let deployment = start().await;
    let (status, body) = post(
        &deployment,
        "/api/run/greet/hello",
        json!({ "args": { "name": "cy" } }),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        body.starts_with(r#"{"status":"success","value":"hello cy""#),
        "{body}"
    );
    let (_, body) = post(
        &deployment,
        "/api/run/tasks/create",
        json!({ "args": { "a": 1.0 } }),
    )
    .await;
    // The handler takes a `serde_json::Value`, which reads a whole float64 as an integer; it goes back as
    // the float64 it is to Convex.
    assert!(body.contains(r#""value":{"a":1.0}"#), "{body}");
    let (status, body) = post(&deployment, "/api/run/greet/", json!({ "args": {} })).await;
    assert_eq!(status, 400, "{body}");
    let (_, body) = post(
        &deployment,
        "/api/function",
        encoded("tasks:create", json!({})),
    )
    .await;
    assert!(body.starts_with(r#"{"status":"success""#), "{body}");

    let calls = deployment.calls();
    assert_eq!(calls[0].endpoint, "/api/run/greet/hello");
    assert_eq!(calls[0].path, "greet:hello");
    assert_eq!(calls[0].kind, FunctionKind::Query);
    assert_eq!(calls[1].kind, FunctionKind::Mutation);
    assert_eq!(calls[2].endpoint, "/api/function");
    assert_eq!(deployment.executions("tasks:create"), 2);
}

fn decode_ts(body: &Value) -> u64 {
    let text = body["ts"].as_str().unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap();
    u64::from_le_bytes(bytes.try_into().unwrap())
}

#[tokio::test]
async fn query_ts_and_query_at_ts() {
    let deployment = start().await;
    let (status, _, text) = post_raw(&deployment, "/api/query_ts", "", &[]).await;
    assert_eq!(status, 200);
    let before = decode_ts(&serde_json::from_str(&text).unwrap());
    post(
        &deployment,
        "/api/mutation",
        encoded("tasks:create", json!({})),
    )
    .await;
    let (_, body) = post_with(&deployment, "/api/query_ts", json!({}), &[]).await;
    let after = decode_ts(&body);
    assert!(after > before, "{before} {after}");
    let ts = body["ts"].clone();

    let mut request = encoded("posts:list", json!({}));
    request["ts"] = ts.clone();
    let (status, body) = post(&deployment, "/api/query_at_ts", request).await;
    assert_eq!(status, 200);
    assert_eq!(body, r#"{"status":"success","value":[{"title":"first"}]}"#);
    // A timestamp is nanoseconds since the epoch: 12 is long past the window.
    let mut request = encoded("posts:list", json!({}));
    request["ts"] = json!(12);
    let (status, body) = post(&deployment, "/api/query_at_ts", request).await;
    assert_eq!(
        (status, body.as_str()),
        (
            503,
            r#"{"code":"InternalServerError","message":"Your request couldn't be completed. Try again later."}"#
        )
    );

    for ts in [Value::Null, json!({})] {
        let mut request = encoded("posts:list", json!({}));
        if !ts.is_null() {
            request["ts"] = ts;
        }
        let (status, body) = post_with(&deployment, "/api/query_at_ts", request, &[]).await;
        assert_eq!(status, 400);
        assert_eq!(body["code"], "BadJsonBody");
    }
    let mut request = encoded("tasks:create", json!({}));
    request["ts"] = ts;
    let (_, body) = post(&deployment, "/api/query_at_ts", request).await;
    assert!(
        body.contains("Trying to execute tasks.js:create as Query, but it is defined as Mutation."),
        "{body}"
    );
    let calls = deployment.calls();
    assert_eq!(calls.last().unwrap().endpoint, "/api/query_at_ts");
    assert_eq!(calls.last().unwrap().kind, FunctionKind::Query);
}

#[tokio::test]
async fn bearer_tokens() {
    let deployment = start().await;
    for header in [
        "Bearer good-token",
        "bearer good-token",
        "BEARER good-token",
    ] {
        let (status, body) = post_with(
            &deployment,
            "/api/query",
            encoded("users:me", json!({})),
            &[("Authorization", header)],
        )
        .await;
        assert_eq!(status, 200, "{header}");
        assert_eq!(
            body["value"],
            json!({ "identity": { "subject": "user_1", "issuer": "https://auth.example.com" }, "admin": false })
        );
    }
    let (_, body) = post_with(
        &deployment,
        "/api/query",
        encoded("users:me", json!({})),
        &[],
    )
    .await;
    assert_eq!(body["value"], json!({ "identity": null, "admin": false }));

    let (status, body) = post_with(
        &deployment,
        "/api/query",
        encoded("users:me", json!({})),
        &[("Authorization", "Bearer forged")],
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "InvalidAuthHeader");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));

    let (status, body) = post_with(
        &deployment,
        "/api/query",
        encoded("users:me", json!({})),
        &[("Authorization", "Basic abc")],
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({ "code": "InvalidAuthHeader", "message": "Header must begin with `bearer `" })
    );
    assert_eq!(deployment.executions("users:me"), 4);

    let calls = deployment.calls();
    assert!(matches!(
        &calls[0].auth,
        Auth::Bearer {
            identity: Some(_),
            ..
        }
    ));
    assert_eq!(calls[3].auth, Auth::None);
    assert!(matches!(&calls[4].auth, Auth::Bearer { identity: None, token } if token == "forged"));
    assert_eq!(calls[5].auth, Auth::Invalid);
    let debug = format!("{:?}", calls[0].auth);
    assert!(
        !debug.contains("good-token") && debug.contains("[redacted]"),
        "{debug}"
    );
}

#[tokio::test]
async fn admin_key_and_internal_functions() {
    let deployment = start().await;
    let not_found = r#"{"status":"error","errorMessage":"[Request ID: ID] Server Error\nCould not find public function for 'admin:purge'.\n"}"#;
    let (status, body) = post(
        &deployment,
        "/api/mutation",
        encoded("admin:purge", json!({})),
    )
    .await;
    assert_eq!((status, ids_hidden(&body).as_str()), (200, not_found));
    let (_, _, body) = post_raw(
        &deployment,
        "/api/mutation",
        &encoded("admin:purge", json!({})).to_string(),
        &[("Authorization", "Bearer good-token")],
    )
    .await;
    assert_eq!(ids_hidden(&body), not_found);

    let admin = format!("Convex {}", deployment.admin_key());
    assert_eq!(deployment.admin_key(), DEFAULT_ADMIN_KEY);
    let (_, _, body) = post_raw(
        &deployment,
        "/api/mutation",
        &encoded("admin:purge", json!({})).to_string(),
        &[("Authorization", &admin)],
    )
    .await;
    assert_eq!(body, r#"{"status":"success","value":true}"#);

    let (status, body) = post_with(
        &deployment,
        "/api/mutation",
        encoded("admin:purge", json!({})),
        &[("Authorization", "Convex wrong-key")],
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "BadAdminKey");
    assert_eq!(deployment.executions("admin:purge"), 1);

    // Acting as a user with the admin key.
    let identity = json!({ "subject": "user_9", "issuer": "https://auth.example.com" });
    let header = format!(
        "Convex {}:{}",
        deployment.admin_key(),
        base64::engine::general_purpose::STANDARD.encode(identity.to_string())
    );
    let (status, body) = post_with(
        &deployment,
        "/api/query",
        encoded("users:me", json!({})),
        &[("Authorization", &header)],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["value"],
        json!({ "identity": identity, "admin": true })
    );
    assert_eq!(
        deployment.calls().last().unwrap().auth,
        Auth::ActingAs(identity)
    );
    assert_eq!(deployment.calls()[2].auth, Auth::Admin);
}

#[tokio::test]
async fn admin_keys_holding_colons_work() {
    let deployment = builder()
        .admin_key("prod:happy-otter-123|secret")
        .start()
        .await;
    let client = Client::builder(deployment.url())
        .admin_key(deployment.admin_key())
        .build()
        .unwrap();
    let purged: bool = client.mutation("admin:purge", json!({})).await.unwrap();
    assert!(purged);
    let me: Value = client
        .query("users:me", json!({}))
        .options(
            convex_fetch::FetchOptions::new()
                .admin_key_acting_as(deployment.admin_key(), &json!({ "subject": "u" })),
        )
        .await
        .unwrap();
    assert_eq!(me, json!({ "identity": { "subject": "u" }, "admin": true }));
    let debug = format!("{deployment:?}");
    assert!(!debug.contains("secret"), "{debug}");
}

#[tokio::test]
async fn system_errors_for_malformed_requests() {
    let deployment = start().await;
    let (status, _, body) = post_raw(&deployment, "/api/query", "{not json", &[]).await;
    assert_eq!(status, 400);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["code"],
        "BadJsonBody"
    );
    let (status, _, body) = post_raw(&deployment, "/api/query", "[1]", &[]).await;
    assert_eq!(
        (status, body.contains("BadJsonBody")),
        (400, true),
        "{body}"
    );
    let (status, body) = post(&deployment, "/api/query", json!({ "args": {} })).await;
    assert_eq!(
        (status, body.contains("BadJsonBody")),
        (400, true),
        "{body}"
    );
    let (status, body) = post(&deployment, "/api/query", json!({ "path": 5 })).await;
    assert_eq!(
        (status, body.contains("BadJsonBody")),
        (400, true),
        "{body}"
    );
    assert!(deployment.calls().is_empty());

    let (status, _, body) = post_raw(
        &deployment,
        "/api/query",
        &encoded("posts:list", json!({})).to_string(),
        &[("Convex-Client", "npm")],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["code"],
        "InvalidVersion"
    );
    let (status, _, _) = post_raw(
        &deployment,
        "/api/query",
        &encoded("posts:list", json!({})).to_string(),
        &[("Convex-Client", "npm-1.48.0")],
    )
    .await;
    assert_eq!(status, 200);

    let (status, _, body) = post_raw(&deployment, "/api/nope", "{}", &[]).await;
    assert_eq!(status, 404, "{body}");
    let response = reqwest::get(format!("{}/api/query", deployment.url()))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
}

#[tokio::test]
async fn status_faults_strike_before_the_function() {
    let deployment = start().await;
    deployment.fail_next(
        2,
        Fault::system(503, "Overloaded", "busy").with_header("Retry-After", "1"),
    );
    deployment.fail_next(1, Fault::html(502, "<html><body>Bad Gateway</body></html>"));
    assert_eq!(deployment.pending_faults(), 3);
    let request = encoded("tasks:create", json!({})).to_string();
    for _ in 0..2 {
        let (status, headers, body) = post_raw(&deployment, "/api/mutation", &request, &[]).await;
        assert_eq!(status, 503);
        assert_eq!(body, r#"{"code":"Overloaded","message":"busy"}"#);
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(headers["retry-after"], "1");
    }
    let (status, headers, body) = post_raw(&deployment, "/api/mutation", &request, &[]).await;
    assert_eq!(status, 502);
    assert_eq!(body, "<html><body>Bad Gateway</body></html>");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(deployment.executions("tasks:create"), 0);

    let (status, _, _) = post_raw(&deployment, "/api/mutation", &request, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(deployment.executions("tasks:create"), 1);
    // Every attempt reached the deployment and is recorded.
    assert_eq!(deployment.calls().len(), 4);
    assert_eq!(deployment.pending_faults(), 0);

    deployment.fail_next(
        1,
        Fault::status_json(429, json!({ "code": "RateLimited", "message": "x" })),
    );
    deployment.clear_faults();
    assert_eq!(
        post_raw(&deployment, "/api/mutation", &request, &[])
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn dropped_connections() {
    let deployment = start().await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/mutation", deployment.url());
    let request = encoded("tasks:create", json!({})).to_string();

    deployment.fail_next(1, Fault::DropConnection);
    let err = http
        .post(&url)
        .body(request.clone())
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_connect(), "{err:?}");
    assert_eq!(deployment.executions("tasks:create"), 0);

    deployment.fail_next(1, Fault::DropAfterRun);
    http.post(&url)
        .body(request.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(deployment.executions("tasks:create"), 1);

    // The next request is served normally.
    let response = http.post(&url).body(request.clone()).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(deployment.executions("tasks:create"), 2);
    assert_eq!(deployment.calls().len(), 3);

    // On the wire: not a byte of answer.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    deployment.fail_next(1, Fault::DropConnection);
    let address = deployment.url().trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!(
        "POST /api/mutation HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\n\r\n{request}",
        request.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let _ = stream.read_to_end(&mut received).await;
    assert!(
        received.is_empty(),
        "{}",
        String::from_utf8_lossy(&received)
    );
    assert_eq!(deployment.executions("tasks:create"), 2);
}

#[tokio::test]
async fn truncated_bodies() {
    let deployment = start().await;
    deployment.fail_next(1, Fault::TruncatedBody);
    let response = reqwest::Client::new()
        .post(format!("{}/api/mutation", deployment.url()))
        .body(encoded("tasks:create", json!({ "text": "a long enough body" })).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let declared: usize = response.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(declared > 20);
    assert!(response.bytes().await.is_err());
    assert_eq!(deployment.executions("tasks:create"), 1);

    // On the wire: the full header, half the body, then the end of the connection.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    deployment.fail_next(1, Fault::TruncatedBody);
    let body = encoded("posts:list", json!({})).to_string();
    let address = deployment.url().trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!(
        "POST /api/query HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let _ = stream.read_to_end(&mut received).await;
    let received = String::from_utf8(received).unwrap();
    let (head, sent_body) = received.split_once("\r\n\r\n").unwrap();
    let full = r#"{"status":"success","value":[{"title":"first"}]}"#;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("content-length: {}", full.len())),
        "{head}"
    );
    assert_eq!(sent_body, &full[..full.len() / 2]);
}

#[tokio::test]
async fn the_client_sees_faults_as_errors() {
    let deployment = start().await;
    let client = deployment.client();
    deployment.fail_next(1, Fault::DropAfterRun);
    let err = client
        .mutation::<_, Value>("tasks:create", json!({}))
        .await
        .unwrap_err();
    assert!(!err.provably_not_run(), "{err}");
    // A mutation whose answer was lost is not retried blindly.
    assert_eq!(deployment.executions("tasks:create"), 1);
    assert_eq!(deployment.calls().len(), 1);

    deployment.fail_next(1, Fault::system(400, "BadRequest", "no"));
    let err = client
        .mutation::<_, Value>("tasks:create", json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), convex_fetch::ErrorKind::Server { code, .. } if code == "BadRequest"),
        "{err}"
    );
    assert_eq!(deployment.executions("tasks:create"), 1);
}

#[tokio::test]
async fn latency_delays_requests() {
    let deployment = start().await;
    deployment.set_latency(Duration::from_millis(300));
    let started = Instant::now();
    let (status, _) = post(&deployment, "/api/query", encoded("posts:list", json!({}))).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    deployment.set_latency(Duration::ZERO);
    let started = Instant::now();
    post(&deployment, "/api/query", encoded("posts:list", json!({}))).await;
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn recorded_calls_are_bounded() {
    let deployment = builder().max_recorded_calls(3).start().await;
    for i in 0..5 {
        post(
            &deployment,
            "/api/mutation",
            encoded("tasks:create", json!({ "i": f64::from(i) })),
        )
        .await;
    }
    let calls = deployment.calls();
    assert_eq!(calls.len(), 3);
    assert_eq!(deployment.dropped_calls(), 2);
    let seen: Vec<f64> = calls
        .iter()
        .map(|c| c.args.get("i").and_then(ConvexValue::as_f64).unwrap())
        .collect();
    assert_eq!(seen, [2.0, 3.0, 4.0]);
    assert_eq!(calls[0].kind, FunctionKind::Mutation);
    assert_eq!(calls[0].endpoint, "/api/mutation");
    #[derive(Deserialize)]
    struct I {
        i: f64,
    }
    assert_eq!(calls[0].decode_args::<I>().unwrap().i, 2.0);
    assert_eq!(deployment.executions("tasks.js:create"), 5);

    deployment.clear_calls();
    assert!(deployment.calls().is_empty());
    assert_eq!(deployment.dropped_calls(), 0);
    assert_eq!(deployment.executions("tasks:create"), 0);
}

#[tokio::test]
async fn the_client_reads_answers() {
    let deployment = start().await;
    let client = Client::builder(deployment.url())
        .auth("good-token")
        .build()
        .unwrap();
    let greeting: String = client
        .query("greet:hello", json!({ "name": "dee" }))
        .await
        .unwrap();
    assert_eq!(greeting, "hello dee");
    let me: Value = client.query("users:me", json!({})).await.unwrap();
    assert_eq!(me["identity"]["subject"], "user_1");

    let err = client
        .query::<_, ()>("fail:convex", json!({}))
        .await
        .unwrap_err();
    let convex_fetch::ErrorKind::Function { message, data, .. } = err.kind() else {
        panic!("{err:?}")
    };
    assert_eq!(message, r#"{"code":"E1","n":2}"#);
    assert_eq!(
        data.as_ref(),
        Some(&convex_fetch::value!({ code: "E1", n: 2 }))
    );

    let snapshot = client.snapshot().await.unwrap();
    let posts: Value = snapshot
        .query(convex_fetch::Untyped::query("posts:list", json!({})))
        .await
        .unwrap();
    assert_eq!(posts, json!([{ "title": "first" }]));
}

#[tokio::test]
async fn debug_output_redacts_credentials() {
    let builder = builder().admin_key("super-secret-key");
    let debug = format!("{builder:?}");
    assert!(
        !debug.contains("super-secret-key") && !debug.contains("good-token"),
        "{debug}"
    );
    assert!(debug.contains("greet:hello"), "{debug}");
    let deployment = builder.start().await;
    let debug = format!("{deployment:?}");
    assert!(
        !debug.contains("super-secret-key") && !debug.contains("good-token"),
        "{debug}"
    );
}

#[tokio::test]
async fn stops_when_dropped() {
    let deployment = start().await;
    let url = format!("{}/api/query_ts", deployment.url());
    drop(deployment);
    let mut refused = false;
    for _ in 0..50 {
        match reqwest::Client::new().post(&url).send().await {
            Err(err) if err.is_connect() => {
                refused = true;
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    assert!(refused);
}

#[test]
#[should_panic(expected = "not a valid Convex function path")]
fn registering_an_invalid_path_panics() {
    let _ =
        TestDeployment::builder().query(
            "posts::list",
            |_ctx: Ctx, _args: Value| async move { Ok(()) },
        );
}

#[tokio::test]
async fn async_closures_are_handlers() {
    let deployment = TestDeployment::builder()
        .query("echo:args", async |_ctx: Ctx, args: Value| {
            Ok::<_, FunctionError>(args)
        })
        .start()
        .await;
    let echoed: Value = deployment
        .client()
        .query("echo:args", json!({ "x": "y" }))
        .await
        .unwrap();
    assert_eq!(echoed, json!({ "x": "y" }));
}

#[test]
fn handles_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<TestDeployment>();
    check::<TestDeploymentBuilder>();
    check::<Ctx>();
    check::<RecordedCall>();
    check::<Fault>();
    check::<FunctionError>();
}

/// Every Convex type, at its extremes, as the exact bytes a client sends.
const EVERY_TYPE: &str = r#"{"b":{"$bytes":"AP8="},"f":0.1,"max":{"$integer":"/////////38="},"min":{"$integer":"AAAAAAAAAIA="},"nan":{"$float":"AQAAAAAA+H8="},"neg":{"$float":"AAAAAAAA8P8="},"z":{"$float":"AAAAAAAAAIA="}}"#;

#[tokio::test]
async fn a_handler_taking_and_returning_a_value_loses_nothing() {
    let deployment = TestDeployment::builder()
        .query("echo:value", |_ctx: Ctx, args: ConvexValue| async move {
            Ok(args)
        })
        .query("echo:throw", |_ctx: Ctx, args: ConvexValue| async move {
            Err::<(), _>(FunctionError::convex(args))
        })
        .start()
        .await;
    let request =
        format!(r#"{{"path":"echo:value","args":{EVERY_TYPE},"format":"convex_encoded_json"}}"#);
    let (status, _, body) = post_raw(&deployment, "/api/query", &request, &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        format!(r#"{{"status":"success","value":{EVERY_TYPE}}}"#)
    );

    let sent: ConvexValue = value::from_slice(EVERY_TYPE.as_bytes()).unwrap();
    assert_eq!(sent.get("max"), Some(&ConvexValue::Int64(i64::MAX)));
    let calls = deployment.calls();
    assert_eq!(calls[0].args, sent, "the record keeps the Convex types");

    let request = request.replace("echo:value", "echo:throw");
    let (_, _, body) = post_raw(&deployment, "/api/query", &request, &[]).await;
    assert!(
        body.contains(&format!(r#""errorData":{EVERY_TYPE}"#)),
        "{body}"
    );
    let data = FunctionError::convex(&sent);
    assert_eq!(data.data(), Some(&sent));
}

#[tokio::test]
async fn args_that_are_not_valid_convex_json_are_refused_and_recorded_as_sent() {
    let deployment = start().await;
    let (status, body) = post(
        &deployment,
        "/api/mutation",
        encoded(
            "tasks:create",
            json!({ "n": { "$integer": "AQ==" }, "ok": { "$integer": "AQAAAAAAAAA=" } }),
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        body.contains("ArgumentValidationError") && body.contains("must hold 8 bytes"),
        "{body}"
    );
    assert_eq!(deployment.executions("tasks:create"), 0);
    let args = &deployment.calls()[0].args;
    assert_eq!(
        args.get("n"),
        Some(&ConvexValue::Object(
            [("$integer".to_owned(), ConvexValue::from("AQ=="))].into()
        )),
        "a malformed special object is kept as the object it was"
    );
    assert_eq!(args.get("ok"), Some(&ConvexValue::Int64(1)));
}

#[derive(Default)]
struct Counter(u32);

#[tokio::test]
async fn handlers_share_the_registered_state_and_the_test_reads_it() {
    let deployment = TestDeployment::builder()
        .state(Counter::default())
        .state(vec!["seeded".to_owned()])
        .mutation("counter:bump", |ctx: Ctx, _args: Value| async move {
            let mut counter = ctx.state::<Counter>()?;
            counter.0 += 1;
            Ok(counter.0)
        })
        .query("names:list", |ctx: Ctx, _args: Value| async move {
            Ok(ctx.state::<Vec<String>>()?.clone())
        })
        .query("missing:state", |ctx: Ctx, _args: Value| async move {
            Ok(ctx.state::<Instant>()?.elapsed().as_secs())
        })
        .start()
        .await;
    let client = deployment.client();
    for expected in 1..=3_u32 {
        let n: u32 = client.mutation("counter:bump", json!({})).await.unwrap();
        assert_eq!(n, expected);
    }
    assert_eq!(deployment.state::<Counter>().unwrap().0, 3);
    let names: Vec<String> = client.query("names:list", json!({})).await.unwrap();
    assert_eq!(names, ["seeded"]);
    assert!(deployment.state::<Instant>().is_none());

    // A state never registered fails the call, naming the type and the fix.
    let err = client
        .query::<_, u64>("missing:state", json!({}))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("no state of type `std::time::Instant`"),
        "{text}"
    );
    assert!(text.contains(".state(…)"), "{text}");
}

#[tokio::test]
async fn waiting_for_a_call_returns_it_when_it_arrives_and_says_what_came_instead() {
    let deployment = builder().start().await;
    let client = deployment.client();
    let background = client.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let _: Result<Value, _> = background
            .mutation("tasks:create", json!({ "title": "later" }))
            .await;
    });
    let started = Instant::now();
    let call = deployment
        .wait_for_call("tasks.js:create", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(call.path, "tasks:create");
    assert_eq!(call.args, value!({ title: "later" }));
    assert!(started.elapsed() < Duration::from_secs(10));

    // Already recorded: returned at once.
    let again = deployment
        .wait_for_call("tasks:create", Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(again, call);

    let _: String = client
        .query("greet:hello", json!({ "name": "ada" }))
        .await
        .unwrap();
    let timeout = deployment
        .wait_for_call("tasks:remove", Duration::from_millis(50))
        .await
        .unwrap_err();
    assert_eq!(timeout.recorded, ["tasks:create", "greet:hello"]);
    assert_eq!(
        timeout.to_string(),
        "no call to `tasks:remove` within 50ms; recorded: tasks:create, greet:hello"
    );
}
