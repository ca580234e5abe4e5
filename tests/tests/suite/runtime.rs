//! The runtime against real HTTP servers on 127.0.0.1: the test deployment for Convex's behaviour, and a raw
//! capture server where the exact bytes on the wire matter.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use convex::value::{Bytes, Int64};
use convex::{Client, ErrorKind, FetchOptions, FunctionKind, RetryPolicy, StatusCode};
use convex_fetch_testing::{Auth, Ctx, Fault, FunctionError, TestDeployment};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.user-jwt.sig-TOPSECRET";

#[derive(Debug, Deserialize, PartialEq)]
struct Post {
    title: String,
}

async fn deployment() -> TestDeployment {
    TestDeployment::builder()
        .query("posts:list", |_ctx: Ctx, _args: Value| async move {
            Ok(json!([{ "title": "Hello" }]))
        })
        .mutation("tasks:complete", |_ctx: Ctx, args: Value| async move {
            Ok(args)
        })
        .action("reports:generate", |ctx: Ctx, args: Value| async move {
            ctx.info("generating");
            Ok(json!({ "month": args["month"], "kind": format!("{:?}", ctx.kind()) }))
        })
        .mutation("tasks:fail", |_ctx: Ctx, _args: Value| async move {
            Err::<(), _>(FunctionError::message("task store is locked"))
        })
        .mutation("tasks:invalid", |_ctx: Ctx, _args: Value| async move {
            #[derive(Serialize)]
            struct Invalid {
                field: &'static str,
                limit: Int64,
            }
            Err::<(), _>(FunctionError::convex(Invalid {
                field: "title",
                limit: Int64(80),
            }))
        })
        .query("users:me", |ctx: Ctx, _args: Value| async move {
            Ok(ctx.identity().cloned())
        })
        .query(
            "values:echo",
            |_ctx: Ctx, args: Value| async move { Ok(args) },
        )
        .token(TOKEN, json!({ "subject": "user_1" }))
        .start()
        .await
}

#[tokio::test]
async fn each_kind_reaches_its_endpoint_and_decodes_its_result() {
    let deployment = deployment().await;
    let client = deployment.client();

    let posts: Vec<Post> = client.query("posts:list", json!({})).await.unwrap();
    assert_eq!(
        posts,
        [Post {
            title: "Hello".into()
        }]
    );

    let echoed: Value = client
        .mutation("tasks:complete", json!({ "id": "k1" }))
        .await
        .unwrap();
    assert_eq!(echoed, json!({ "id": "k1" }));

    let report: Value = client
        .action("reports:generate", json!({ "month": 11 }))
        .await
        .unwrap();
    assert_eq!(report, json!({ "month": 11, "kind": "Action" }));

    let kinds: Vec<_> = deployment
        .calls()
        .iter()
        .map(|c| (c.kind, c.endpoint.clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            (FunctionKind::Query, "/api/query".to_owned()),
            (FunctionKind::Mutation, "/api/mutation".to_owned()),
            (FunctionKind::Action, "/api/action".to_owned()),
        ]
    );
}

#[tokio::test]
async fn seed_style_free_functions_take_a_url() {
    let deployment = deployment().await;
    let call = convex::Untyped::<_, Vec<Post>>::query("posts:list", json!({}));
    let posts = convex::fetch_query(deployment.url(), call, FetchOptions::new())
        .await
        .unwrap();
    assert_eq!(posts.len(), 1);

    let call = convex::Untyped::<_, Value, _>::mutation("tasks:complete", json!({ "n": 1 }));
    let echoed = convex::fetch_mutation(deployment.url(), call, FetchOptions::new().verbose())
        .await
        .unwrap();
    assert_eq!(echoed, json!({ "n": 1 }));
}

#[tokio::test]
async fn function_errors_carry_the_message_and_convex_error_data() {
    let deployment = deployment().await;
    let client = deployment.client();

    let err = client
        .mutation::<_, ()>("tasks:fail", json!({}))
        .await
        .unwrap_err();
    match err.kind() {
        ErrorKind::Function { message, data, .. } => {
            assert_eq!(message, "task store is locked");
            assert!(data.is_none());
        }
        other => panic!("expected a function error, got {other:?}"),
    }
    assert!(err.data::<Value>().is_none());
    assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(err.to_string().contains("tasks:fail"), "{err}");

    #[derive(Debug, Deserialize, PartialEq)]
    struct Invalid {
        field: String,
        limit: i64,
    }
    let err = client
        .mutation::<_, ()>("tasks:invalid", json!({}))
        .await
        .unwrap_err();
    let data = err.data::<Invalid>().expect("ConvexError data").unwrap();
    assert_eq!(
        data,
        Invalid {
            field: "title".into(),
            limit: 80
        }
    );
    assert_eq!(err.status_code(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn system_failures_with_json_and_non_json_bodies() {
    let deployment = deployment().await;
    let client = Client::builder(deployment.url())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();

    deployment.fail_next(
        1,
        Fault::system(
            400,
            "BadConvexFunctionIdentifier",
            "posts::list is not a valid path",
        ),
    );
    let err = client
        .query::<_, Value>("posts:list", json!({}))
        .await
        .unwrap_err();
    match err.kind() {
        ErrorKind::Server {
            status,
            code,
            message,
            ..
        } => {
            assert_eq!(*status, StatusCode::BAD_REQUEST);
            assert_eq!(code, "BadConvexFunctionIdentifier");
            assert!(message.contains("not a valid path"), "{message}");
        }
        other => panic!("expected a server error, got {other:?}"),
    }

    deployment.fail_next(1, Fault::html(502, "<html><body>Bad Gateway</body></html>"));
    let err = client
        .query::<_, Value>("posts:list", json!({}))
        .await
        .unwrap_err();
    match err.kind() {
        ErrorKind::Server {
            status,
            code,
            message,
            ..
        } => {
            assert_eq!(*status, StatusCode::BAD_GATEWAY);
            assert_eq!(code, "");
            assert!(
                message.contains("Bad Gateway"),
                "the body is quoted: {message}"
            );
        }
        other => panic!("expected a server error, got {other:?}"),
    }
    assert_eq!(err.status_code(), StatusCode::BAD_GATEWAY);
}

#[tokio::test]
async fn invalid_urls_and_missing_configuration_are_config_errors() {
    for url in [
        "",
        "ftp://x.convex.cloud",
        "not a url",
        "https://happy-otter-123.convex.site",
    ] {
        let err = Client::new(url).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Config { .. }),
            "{url}: {err:?}"
        );
    }
    // A call to an invalid URL fails at the call, without panicking.
    let call = convex::Untyped::<_, Value>::query("posts:list", json!({}));
    let err = convex::fetch_query("nope", call, FetchOptions::new())
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Config { .. }), "{err:?}");
}

#[tokio::test]
async fn auth_tokens_are_sent_as_bearer_and_admin_keys_as_convex() {
    let deployment = deployment().await;
    let client = deployment.client();

    let me: Option<Value> = client
        .query("users:me", json!({}))
        .auth(TOKEN)
        .await
        .unwrap();
    assert_eq!(me, Some(json!({ "subject": "user_1" })));
    let anonymous: Option<Value> = client.query("users:me", json!({})).await.unwrap();
    assert_eq!(anonymous, None);
    let _: Option<Value> = client
        .query("users:me", json!({}))
        .admin_key(deployment.admin_key())
        .await
        .unwrap();

    let auths: Vec<_> = deployment.calls().into_iter().map(|c| c.auth).collect();
    assert!(
        matches!(&auths[0], Auth::Bearer { token, .. } if token == TOKEN),
        "{:?}",
        auths[0]
    );
    assert!(matches!(auths[1], Auth::None));
    assert!(matches!(auths[2], Auth::Admin));

    // A token the deployment does not accept is a 401 from Convex, passed on as such.
    let err = client
        .query::<_, Value>("users:me", json!({}))
        .auth("expired")
        .await
        .unwrap_err();
    assert_eq!(err.status_code(), StatusCode::UNAUTHORIZED, "{err:?}");
}

#[tokio::test]
async fn int64_bytes_and_special_floats_round_trip() {
    #[derive(Serialize, Deserialize)]
    struct Args {
        big: Int64,
        blob: Bytes,
        nan: f64,
        neg_zero: f64,
        inf: f64,
    }
    #[derive(Deserialize)]
    struct Back {
        big: i64,
        blob: Vec<u8>,
        nan: f64,
        neg_zero: f64,
        inf: f64,
    }
    // The handler takes the same types, so that it sends back what it got, int64 and bytes included.
    let deployment = TestDeployment::builder()
        .query(
            "values:echo",
            |_ctx: Ctx, args: Args| async move { Ok(args) },
        )
        .start()
        .await;
    let args = Args {
        big: Int64(i64::MIN),
        blob: Bytes(vec![0, 0x10, 0x83, 0xff]),
        nan: f64::NAN,
        neg_zero: -0.0,
        inf: f64::NEG_INFINITY,
    };
    let back: Back = deployment
        .client()
        .query("values:echo", args)
        .await
        .unwrap();
    assert_eq!(back.big, i64::MIN);
    assert_eq!(back.blob, [0, 0x10, 0x83, 0xff]);
    assert!(back.nan.is_nan());
    assert!(back.neg_zero == 0.0 && back.neg_zero.is_sign_negative());
    assert_eq!(back.inf, f64::NEG_INFINITY);
    // The deployment received an int64 and a -0, and recorded them so.
    let received = &deployment.calls()[0].args;
    assert_eq!(
        received.get("big"),
        Some(&convex::value::Value::Int64(i64::MIN))
    );
    let neg_zero = received
        .get("neg_zero")
        .and_then(convex::value::Value::as_f64);
    assert!(neg_zero.is_some_and(|z| z == 0.0 && z.is_sign_negative()));
}

#[tokio::test]
async fn args_that_convex_would_refuse_are_refused_before_sending() {
    let deployment = deployment().await;
    let client = deployment.client();
    for (args, expected) in [
        (json!([1, 2]), "must be an object"),
        (json!(3), "must be an object"),
        (json!({ "$id": 1 }), "reserves"),
        (json!({ "n": 9_007_199_254_740_993u64 }), "Int64"),
    ] {
        let err = client
            .query::<_, Value>("values:echo", args)
            .await
            .unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::InvalidArgs { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains(expected), "{err}");
    }
    assert!(deployment.calls().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_result_that_does_not_fit_names_the_function_and_quotes_the_value() {
    let deployment = deployment().await;
    let err = deployment
        .client()
        .query::<_, Vec<u64>>("posts:list", json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Decode { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(
        shown.contains("posts:list") && shown.contains("Hello"),
        "{shown}"
    );
}

#[tokio::test]
async fn a_slow_function_times_out_with_a_timeout_error() {
    let deployment = deployment().await;
    deployment.set_latency(Duration::from_secs(5));
    let err = deployment
        .client()
        .query::<_, Value>("posts:list", json!({}))
        .timeout(Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Timeout { .. }), "{err:?}");
    assert_eq!(err.status_code(), StatusCode::GATEWAY_TIMEOUT);
}

/// What a raw capture server saw of one request.
#[derive(Clone, Default)]
struct Captured {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// A server that answers every request with `answer` and keeps what it received.
async fn capture(answer: &'static str) -> (String, Arc<Mutex<Vec<Captured>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let store = seen.clone();
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: axum::body::Bytes| {
        let store = store.clone();
        async move {
            let headers = headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("<binary>").to_owned()))
                .collect();
            store.lock().unwrap().push(Captured {
                headers,
                body: body.to_vec(),
            });
            ([("content-type", "application/json")], answer)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

#[tokio::test]
async fn the_request_is_exactly_what_the_protocol_says() {
    let (url, seen) = capture(r#"{"status":"success","value":null}"#).await;
    let client = Client::new(&url).unwrap();

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Args {
        task_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    }
    client
        .mutation::<_, ()>(
            "tasks:complete",
            Args {
                task_id: "k1".into(),
                note: None,
            },
        )
        .auth(TOKEN)
        .await
        .unwrap();
    client
        .query::<_, ()>("admin/users:list", ())
        .admin_key("prod:happy-otter|ADMINSECRET")
        .await
        .unwrap();

    let seen = seen.lock().unwrap().clone();
    let header = |c: &Captured, name: &str| {
        c.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        String::from_utf8_lossy(&seen[0].body),
        r#"{"path":"tasks:complete","format":"convex_encoded_json","args":{"taskId":"k1"}}"#
    );
    assert_eq!(
        header(&seen[0], "authorization").as_deref(),
        Some(&*format!("Bearer {TOKEN}"))
    );
    assert_eq!(
        header(&seen[0], "content-type").as_deref(),
        Some("application/json")
    );
    let client_header = header(&seen[0], "convex-client").unwrap();
    assert_eq!(
        client_header,
        format!(
            "rust-convex-fetch-{}",
            env!("CARGO_PKG_VERSION").replace("0.0.0", "0.1.0")
        )
    );

    assert_eq!(
        String::from_utf8_lossy(&seen[1].body),
        r#"{"path":"admin/users:list","format":"convex_encoded_json","args":{}}"#
    );
    assert_eq!(
        header(&seen[1], "authorization").as_deref(),
        Some("Convex prod:happy-otter|ADMINSECRET")
    );
}

#[tokio::test]
async fn a_560_is_a_function_failure() {
    let deployment = deployment().await;
    deployment.fail_next(
        1,
        Fault::status_json(
            560,
            json!({ "status": "error", "errorMessage": "Server Error" }),
        ),
    );
    let err = deployment
        .client()
        .query::<_, Value>("posts:list", json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Function { message, .. } if message == "Server Error"),
        "{err:?}"
    );
}
