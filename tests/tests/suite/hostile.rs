//! Hostile input: servers that answer with exactly the bytes a test chooses (broken JSON, bombs, lies about
//! lengths, silence, dribbles, non-HTTP), and credentials that try to inject headers. Every case must end in a
//! clear error of the right kind that names the function — never a panic, a hang, an unbounded allocation or
//! a leaked secret.

use std::time::{Duration, Instant};

use convex::{Client, Error, ErrorKind, FetchOptions, RetryPolicy, StatusCode, Untyped};
use convex_fetch_testing::{Ctx, Fault, TestDeployment};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What a deadline may be overshot by on a loaded machine.
const SLACK: Duration = Duration::from_secs(2);

/// What a raw server does with each connection once it has read the request.
#[derive(Clone)]
enum Behaviour {
    /// Writes these bytes, then closes the connection.
    Answer(Vec<u8>),
    /// Never answers, and keeps the connection open.
    Silent,
    /// Writes `head`, then `chunk` every `every` until the client goes away.
    Stream {
        head: Vec<u8>,
        chunk: Vec<u8>,
        every: Duration,
    },
}

/// A server on 127.0.0.1 that treats every connection as `behaviour` says; returns its URL.
async fn raw_server(behaviour: Behaviour) -> String {
    raw_server_for(|_| behaviour).await
}

/// A server on 127.0.0.1 that treats every connection as `make(its own URL)` says; returns its URL.
async fn raw_server_for(make: impl FnOnce(&str) -> Behaviour) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let behaviour = make(&url);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let behaviour = behaviour.clone();
            tokio::spawn(async move {
                read_request(&mut socket).await;
                match behaviour {
                    Behaviour::Answer(bytes) => {
                        let _ = socket.write_all(&bytes).await;
                        let _ = socket.shutdown().await;
                    }
                    Behaviour::Silent => {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }
                    Behaviour::Stream { head, chunk, every } => {
                        if socket.write_all(&head).await.is_err() {
                            return;
                        }
                        loop {
                            if !every.is_zero() {
                                tokio::time::sleep(every).await;
                            }
                            if socket.write_all(&chunk).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    url
}

/// Reads one HTTP/1.1 request (headers, then `Content-Length` bytes of body), so that closing afterwards
/// does not reset the connection under the answer.
async fn read_request(socket: &mut TcpStream) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|n| n.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buffer.len() >= end + 4 + length {
                return;
            }
        }
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

/// An HTTP/1.1 answer with this status and body, a correct `Content-Length`, and `Connection: close`.
fn http(status: u16, body: impl AsRef<[u8]>) -> Vec<u8> {
    let body = body.as_ref();
    let mut bytes = format!(
        "HTTP/1.1 {status} Whatever\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A client that makes one attempt, with a deadline that no case here should come near.
fn client(url: &str) -> Client {
    Client::builder(url)
        .retry(RetryPolicy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Calls the query `hostile:case` on a server answering `body` with HTTP 200, expecting `T`.
async fn query_200<T: DeserializeOwned + Send + 'static>(
    body: impl AsRef<[u8]>,
) -> Result<T, Error> {
    let url = raw_server(Behaviour::Answer(http(200, body))).await;
    client(&url).query("hostile:case", json!({})).await
}

/// Asserts a decode error that names the function and says `why`.
fn assert_decode<T: std::fmt::Debug>(result: Result<T, Error>, why: &str, case: &str) {
    let err = match result {
        Err(err) if matches!(err.kind(), ErrorKind::Decode { .. }) => err,
        other => panic!("{case}: expected a decode error, got {other:?}"),
    };
    let shown = err.to_string();
    assert!(
        shown.contains("query `hostile:case`") && shown.contains(why),
        "{case}: {shown}"
    );
    assert!(!err.provably_not_run(), "{case}");
    assert_eq!(err.status_code(), StatusCode::BAD_GATEWAY, "{case}");
}

/// `depth` nested arrays: `[[[…]]]`.
fn nested_arrays(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// `depth` nested objects: `{"a":{"a":…1…}}`.
fn nested_objects(depth: usize) -> String {
    format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth))
}

#[tokio::test]
async fn malformed_answers_on_200_are_decode_errors() {
    let cases: &[(&str, &[u8], &str)] = &[
        (
            "an HTML page",
            b"<html><body>Welcome to nginx!</body></html>",
            "not a Convex function response",
        ),
        ("an empty body", b"", "not a Convex function response"),
        (
            "bytes that are not UTF-8",
            b"\xff\xfe\x00\x80garbage",
            "not a Convex function response",
        ),
        (
            "truncated JSON",
            br#"{"status":"success","value":[1,2"#,
            "not a Convex function response",
        ),
        (
            "trailing garbage",
            br#"{"status":"success","value":1} and more"#,
            "not a Convex function response",
        ),
        (
            "a JSON array",
            br#"["success", 1]"#,
            "not a Convex function response",
        ),
        (
            "an unknown status",
            br#"{"status":"ok","value":1}"#,
            "unknown response status `ok`",
        ),
        (
            "a status that is not a string",
            br#"{"status":5,"value":1}"#,
            "not a Convex function response",
        ),
        (
            "no status",
            br#"{"value":1}"#,
            "not a Convex function response",
        ),
        (
            "a success without a value",
            br#"{"status":"success"}"#,
            "without a `value`",
        ),
        (
            "log lines that are not strings",
            br#"{"status":"success","value":1,"logLines":[1,{}]}"#,
            "not a Convex function response",
        ),
        (
            "an error message that is not a string",
            br#"{"status":"error","errorMessage":{"nested":true}}"#,
            "not a Convex function response",
        ),
        (
            "unreadable error data",
            br#"{"status":"error","errorMessage":"boom","errorData":{"$integer":"nope"}}"#,
            "unreadable `errorData`",
        ),
    ];
    for (case, body, why) in cases {
        assert_decode(query_200::<Value>(body).await, why, case);
        // A unit result must not paper over a broken answer either.
        assert_decode(query_200::<()>(body).await, why, case);
    }
}

#[tokio::test]
async fn deeply_nested_values_are_errors_not_stack_overflows() {
    // serde_json stops at 128 levels; the Convex decoder sits on top of it and must keep that limit, for the
    // value, the error data, and a bare body alike.
    for (case, nested) in [
        ("100k arrays", nested_arrays(100_000)),
        ("100k objects", nested_objects(100_000)),
        ("129 arrays", nested_arrays(129)),
    ] {
        let body = format!(r#"{{"status":"success","value":{nested}}}"#);
        assert_decode(
            query_200::<Value>(&body).await,
            "recursion limit exceeded",
            case,
        );
        #[derive(Debug, Deserialize)]
        struct Tree(#[allow(dead_code)] Vec<Tree>);
        if nested.starts_with('[') {
            assert_decode(
                query_200::<Tree>(&body).await,
                "recursion limit exceeded",
                case,
            );
        }
        let body = format!(r#"{{"status":"error","errorMessage":"boom","errorData":{nested}}}"#);
        assert_decode(
            query_200::<Value>(&body).await,
            "recursion limit exceeded",
            case,
        );
        assert_decode(
            query_200::<Value>(&nested).await,
            "not a Convex function response",
            case,
        );
    }
    // Just within the limit, the value decodes, on the test's own (small) thread stack.
    let body = format!(r#"{{"status":"success","value":{}}}"#, nested_arrays(126));
    query_200::<Value>(&body).await.unwrap();
    let body = format!(r#"{{"status":"success","value":{}}}"#, nested_objects(126));
    query_200::<Value>(&body).await.unwrap();
}

#[tokio::test]
async fn malformed_convex_encodings_are_decode_errors() {
    let cases = [
        (r#"{"$integer":"!!!!"}"#, "`$integer` is not valid base64"),
        (
            r#"{"$integer":"AQ=="}"#,
            "`$integer` must hold 8 bytes, not 1",
        ),
        (
            r#"{"$integer":"AQAAAAAAAAAA"}"#,
            "`$integer` must hold 8 bytes, not 9",
        ),
        (
            r#"{"$integer":"AQAAAAAAAAAAAA=="}"#,
            "`$integer` must hold 8 bytes, not 10",
        ),
        (r#"{"$integer":1}"#, "expected a string"),
        (r#"{"$float":"AAAAAAAA8D8="}"#, "ordinary number"),
        (r#"{"$float":"AAAA"}"#, "`$float` must hold 8 bytes, not 3"),
        (r#"{"$float":"A"}"#, "`$float` is not valid base64"),
        (
            r#"{"$integer":"AQAAAAAAAAA"}"#,
            "`$integer` is not valid base64",
        ),
        (r#"{"$bytes":"ABC*"}"#, "`$bytes` is not valid base64"),
        (r#"{"$bytes":null}"#, "expected a string"),
        (
            r#"{"$integer":"AQAAAAAAAAA=","extra":1}"#,
            "must have no other field",
        ),
        (r#"{"$set":[]}"#, "obsolete"),
        (r#"{"$map":[]}"#, "obsolete"),
        (r#"{"$id":"k1"}"#, "starts with `$`"),
        (r#"[1,{"$bytes":"ABC*"}]"#, "`$bytes` is not valid base64"),
    ];
    for (value, why) in cases {
        let body = format!(r#"{{"status":"success","value":{value}}}"#);
        assert_decode(query_200::<Value>(&body).await, why, value);
    }
    // The same through typed targets, where the special object stands where a scalar is expected.
    assert_decode(
        query_200::<i64>(r#"{"status":"success","value":{"$integer":"AQ=="}}"#).await,
        "must hold 8 bytes",
        "i64",
    );
    assert_decode(
        query_200::<f64>(r#"{"status":"success","value":{"$float":"@@@@"}}"#).await,
        "not valid base64",
        "f64",
    );
    assert_decode(
        query_200::<Vec<u8>>(r#"{"status":"success","value":{"$bytes":"A"}}"#).await,
        "not valid base64",
        "Vec<u8>",
    );
    // And well-formed encodings of the wrong type are type errors, not panics.
    assert_decode(
        query_200::<String>(r#"{"status":"success","value":{"$integer":"AQAAAAAAAAA="}}"#).await,
        "invalid type",
        "String",
    );
    let ok: i64 = query_200(r#"{"status":"success","value":{"$integer":"AQAAAAAAAAA="}}"#)
        .await
        .unwrap();
    assert_eq!(ok, 1);
}

#[tokio::test]
async fn an_answer_beyond_max_response_bytes_is_refused_without_reading_it_all() {
    const CAP: usize = 64 * 1024;
    let capped = |url: &str| {
        Client::builder(url)
            .max_response_bytes(CAP)
            .retry(RetryPolicy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap()
    };
    let check = |result: Result<Value, Error>, case: &str| {
        let err = match result {
            Err(err) if matches!(err.kind(), ErrorKind::Decode { .. }) => err,
            other => panic!("{case}: expected a decode error, got {other:?}"),
        };
        let shown = err.to_string();
        assert!(
            shown.contains("hostile:case")
                && shown.contains("larger than the limit of 65536 bytes"),
            "{case}: {shown}"
        );
        // The message quotes the start of the body, not all of it.
        assert!(shown.len() < 2048, "{case}: {} bytes", shown.len());
    };

    // A 1 MiB string, honestly declared.
    let huge = format!(
        r#"{{"status":"success","value":"{}"}}"#,
        "x".repeat(1024 * 1024)
    );
    let url = raw_server(Behaviour::Answer(http(200, &huge))).await;
    check(capped(&url).query("hostile:case", json!({})).await, "1 MiB");

    // An endless chunked body, and an endless body declaring a terabyte: both stop at the cap.
    let chunk = {
        let data = "y".repeat(16 * 1024);
        format!("{:x}\r\n{data}\r\n", data.len()).into_bytes()
    };
    for (case, head) in [
        (
            "endless chunks",
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
                .to_owned(),
        ),
        (
            "a terabyte",
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                1u64 << 40
            ),
        ),
    ] {
        let chunk = if case == "a terabyte" {
            vec![b'z'; 16 * 1024]
        } else {
            chunk.clone()
        };
        let url = raw_server(Behaviour::Stream {
            head: head.into_bytes(),
            chunk,
            every: Duration::ZERO,
        })
        .await;
        check(capped(&url).query("hostile:case", json!({})).await, case);
    }

    // The cap holds for error answers too: an enormous proxy page is not read whole.
    let url = raw_server(Behaviour::Answer(http(503, "<p>".repeat(500_000)))).await;
    check(
        capped(&url).query("hostile:case", json!({})).await,
        "a 1.5 MB 503 page",
    );
}

#[tokio::test]
async fn a_body_cut_short_of_its_content_length_is_a_transport_error() {
    // A raw server that declares 1000 bytes, sends 30 and closes.
    let mut answer = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\nconnection: close\r\n\r\n".to_vec();
    answer.extend_from_slice(br#"{"status":"success","value":[1"#);
    let url = raw_server(Behaviour::Answer(answer)).await;
    let err = client(&url)
        .query::<_, Value>("hostile:case", json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Transport { sent: true, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("hostile:case"), "{err}");

    // The test deployment's `TruncatedBody`: the function ran, half its answer arrived.
    let deployment = TestDeployment::builder()
        .query("posts:list", |_ctx: Ctx, _args: Value| async move {
            Ok(json!(["Hello", "World"]))
        })
        .mutation("tasks:create", |_ctx: Ctx, _args: Value| async move {
            Ok(json!({ "id": "k1", "padding": "x".repeat(100) }))
        })
        .start()
        .await;
    deployment.fail_next(1, Fault::TruncatedBody);
    let err = client(deployment.url())
        .query::<_, Value>("posts:list", json!({}))
        .await
        .unwrap_err();
    let shown = err.to_string();
    assert!(
        matches!(err.kind(), ErrorKind::Transport { sent: true, .. })
            && shown.contains("posts:list")
            && shown.contains("may have reached the deployment"),
        "{err:?}"
    );
    // With the default policy a query is read again; a mutation is not: it ran once, and the error says so.
    let retrying = Client::builder(deployment.url())
        .retry(RetryPolicy::default().base_delay(Duration::from_millis(10)))
        .build()
        .unwrap();
    deployment.fail_next(1, Fault::TruncatedBody);
    let posts: Value = retrying.query("posts:list", json!({})).await.unwrap();
    assert_eq!(posts, json!(["Hello", "World"]));
    deployment.fail_next(1, Fault::TruncatedBody);
    let err = retrying
        .mutation::<_, Value>("tasks:create", json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Transport { sent: true, .. }),
        "{err:?}"
    );
    assert!(!err.provably_not_run());
    assert_eq!(deployment.executions("tasks:create"), 1);
}

#[tokio::test]
async fn silent_and_dribbling_servers_time_out_within_the_deadline() {
    let timeout = Duration::from_millis(400);
    let head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{\"status\":\"success\",\"value\":\"".to_vec();
    for (case, behaviour) in [
        ("silent", Behaviour::Silent),
        // Headers at once, then a byte every 50 ms: no single read is slow, the whole answer is.
        (
            "dribbling",
            Behaviour::Stream {
                head,
                chunk: b"x".to_vec(),
                every: Duration::from_millis(50),
            },
        ),
    ] {
        let url = raw_server(behaviour).await;
        // Retries allowed: the deadline covers them all.
        let client = Client::builder(&url).timeout(timeout).build().unwrap();
        for kind in ["query", "mutation"] {
            let started = Instant::now();
            let result: Result<Value, Error> = if kind == "query" {
                client.query("hostile:case", json!({})).await
            } else {
                client.mutation("hostile:case", json!({})).await
            };
            let elapsed = started.elapsed();
            let err = result.unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::Timeout { after, .. } if *after == timeout),
                "{case} {kind}: {err:?}"
            );
            assert!(err.to_string().contains("hostile:case"), "{err}");
            assert!(elapsed < timeout + SLACK, "{case} {kind}: {elapsed:?}");
        }
    }
}

#[tokio::test]
async fn answers_that_are_not_http_are_transport_errors() {
    let long_header = format!(
        "HTTP/1.1 200 OK\r\nx-padding: {}\r\ncontent-length: 2\r\n\r\n{{}}",
        "a".repeat(1024 * 1024)
    );
    let many_headers = format!(
        "HTTP/1.1 200 OK\r\n{}content-length: 2\r\n\r\n{{}}",
        "x-h: 1\r\n".repeat(10_000)
    );
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("an SSH banner", b"SSH-2.0-OpenSSH_9.6\r\n".to_vec()),
        ("binary noise", (0..=255u8).cycle().take(4096).collect()),
        ("nothing at all", Vec::new()),
        (
            "a bad status line",
            b"HTTP/1.1 abc\r\ncontent-length: 0\r\n\r\n".to_vec(),
        ),
        (
            "two content lengths",
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 5\r\n\r\n{}".to_vec(),
        ),
        ("a 1 MiB header", long_header.into_bytes()),
        ("10,000 headers", many_headers.into_bytes()),
    ];
    for (case, bytes) in cases {
        let url = raw_server(Behaviour::Answer(bytes)).await;
        let err = client(&url)
            .mutation::<_, Value>("hostile:case", json!({}))
            .await
            .unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Transport { sent: true, .. }),
            "{case}: {err:?}"
        );
        let shown = err.to_string();
        assert!(
            shown.contains("mutation `hostile:case`") && shown.contains("may have reached"),
            "{case}: {shown}"
        );
    }
}

#[tokio::test]
async fn odd_statuses_are_server_errors_quoting_a_bounded_excerpt() {
    // Any 2xx carries a body to read, as the official client reads it.
    let url = raw_server(Behaviour::Answer(http(
        201,
        r#"{"status":"success","value":1}"#,
    )))
    .await;
    let value: Value = client(&url).query("hostile:case", json!({})).await.unwrap();
    assert_eq!(value, json!(1));
    let url = raw_server(Behaviour::Answer(http(204, ""))).await;
    let err = client(&url)
        .query::<_, Value>("hostile:case", json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Decode { .. }), "{err:?}");
    for (status, body) in [
        (302, String::new()),
        (418, "I'm a teapot".to_owned()),
        (599, "é".repeat(10_000)),
    ] {
        let url = raw_server(Behaviour::Answer(http(status, &body))).await;
        let err = client(&url)
            .query::<_, Value>("hostile:case", json!({}))
            .await
            .unwrap_err();
        let ErrorKind::Server {
            status: got,
            message,
            ..
        } = err.kind()
        else {
            panic!("{status}: expected a server error, got {err:?}")
        };
        assert_eq!(got.as_u16(), status);
        assert!(message.chars().count() <= 201, "{status}: {message}");
        assert!(err.to_string().contains("hostile:case"), "{err}");
    }
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    const HIDDEN: &str = "HIDDEN-a51f";
    // Where the redirect points: a server on another port that keeps the headers it receives.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let store = seen.clone();
    let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap| {
        let store = store.clone();
        async move {
            store.lock().unwrap().push(format!("{headers:?}"));
            (
                [("content-type", "application/json")],
                r#"{"status":"success","value":"elsewhere"}"#,
            )
        }
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let elsewhere = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let redirect = format!(
        "HTTP/1.1 307 Temporary Redirect\r\nlocation: {elsewhere}/api/mutation\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
    let url = raw_server(Behaviour::Answer(redirect.into_bytes())).await;
    let err = client(&url)
        .mutation::<_, Value>("hostile:case", json!({}))
        .auth(format!("token-{HIDDEN}"))
        .await
        .unwrap_err();
    // Convex never redirects its API: a 3xx is a refusal, and the mutation goes nowhere else.
    assert!(
        matches!(err.kind(), ErrorKind::Server { status, .. } if status.as_u16() == 307),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains(HIDDEN));
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.is_empty(),
        "nothing reached the other origin: {seen:?}"
    );

    // A redirect to itself ends in an error at once, not a loop.
    let url = raw_server_for(|url| {
        Behaviour::Answer(
            format!(
                "HTTP/1.1 307 Temporary Redirect\r\nlocation: {url}/api/query\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            )
            .into_bytes(),
        )
    })
    .await;
    let err = client(&url)
        .query::<_, Value>("hostile:case", json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Server { .. }), "{err:?}");
    assert!(err.to_string().contains("hostile:case"), "{err}");
}

#[tokio::test]
async fn credentials_with_control_characters_are_refused_before_anything_is_sent() {
    const HIDDEN: &str = "HIDDEN-91bc";
    let deployment = TestDeployment::builder()
        .query("users:me", |ctx: Ctx, _args: Value| async move {
            Ok(ctx.identity().cloned())
        })
        .start()
        .await;
    let url = deployment.url();
    let identity = json!({ "subject": "user_1", "issuer": "https://auth.example.com" });
    let controls = ['\n', '\r', '\0', '\t', '\x1b', '\x7f', '\u{85}'];
    for control in controls {
        // A header injection attempt: the secret, a line break, and a header of the attacker's choosing.
        let secret = format!("{HIDDEN}{control}X-Injected: 1");
        let me = || Untyped::<_, Value>::query("users:me", json!({}));
        let results: Vec<(&str, Result<Value, Error>)> = vec![
            (
                "call auth",
                deployment.client().call(me()).auth(&secret).await,
            ),
            (
                "call admin key",
                deployment.client().call(me()).admin_key(&secret).await,
            ),
            (
                "admin key acting as",
                deployment
                    .client()
                    .call(me())
                    .admin_key_acting_as(&secret, &identity)
                    .await,
            ),
            (
                "client auth",
                Client::builder(url)
                    .auth(&secret)
                    .build()
                    .unwrap()
                    .call(me())
                    .await,
            ),
            (
                "client admin key",
                Client::builder(url)
                    .admin_key(&secret)
                    .build()
                    .unwrap()
                    .call(me())
                    .await,
            ),
            (
                "fetch options",
                convex::fetch_query(url, me(), FetchOptions::new().auth(&secret)).await,
            ),
        ];
        for (how, result) in results {
            let err = result.unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::Config { .. }),
                "{how} {control:?}: {err:?}"
            );
            assert!(err.provably_not_run());
            let shown = format!("{err} / {err:?}");
            assert!(!shown.contains(HIDDEN), "{how} {control:?}: {shown}");
            assert!(
                shown.contains("control character") && !shown.contains("X-Injected"),
                "{how} {control:?}: {shown}"
            );
        }
    }
    for empty in [
        deployment
            .client()
            .query::<_, Value>("users:me", json!({}))
            .auth("")
            .await,
        deployment
            .client()
            .query::<_, Value>("users:me", json!({}))
            .admin_key("")
            .await,
    ] {
        let err = empty.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Config { .. }) && err.to_string().contains("is empty"),
            "{err:?}"
        );
    }
    assert!(
        deployment.calls().is_empty(),
        "nothing was sent: {:?}",
        deployment.calls()
    );

    // Printable but unusual credentials are sent (and refused by the deployment), never echoed.
    for odd in [
        format!("{HIDDEN}\u{2028}x"),
        format!("tök{HIDDEN}"),
        format!("{HIDDEN} with spaces"),
    ] {
        let err = deployment
            .client()
            .query::<_, Value>("users:me", json!({}))
            .auth(&odd)
            .await
            .unwrap_err();
        let shown = format!("{err} / {err:?}");
        assert!(
            matches!(
                err.kind(),
                ErrorKind::Server { .. } | ErrorKind::Config { .. }
            ),
            "{shown}"
        );
        assert!(!shown.contains(HIDDEN), "{shown}");
    }
}

#[tokio::test]
async fn a_path_with_line_breaks_travels_escaped_in_the_body() {
    let deployment = TestDeployment::builder()
        .query("posts:list", |_ctx: Ctx, _args: Value| async move {
            Ok(json!([]))
        })
        .start()
        .await;
    let err = client(deployment.url())
        .query::<_, Value>("posts:list\r\nX-Injected: 1", json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Server { status, code, .. }
            if *status == StatusCode::BAD_REQUEST && code == "BadConvexFunctionIdentifier"),
        "{err:?}"
    );
}

/// An endless chunked answer with this status: a head, then 16 KiB chunks for as long as the client reads.
async fn endless(status: u16) -> String {
    let data = "e".repeat(16 * 1024);
    raw_server(Behaviour::Stream {
        head: format!(
            "HTTP/1.1 {status} Whatever\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
        )
        .into_bytes(),
        chunk: format!("{:x}\r\n{data}\r\n", data.len()).into_bytes(),
        every: Duration::ZERO,
    })
    .await
}

/// Every body the crate reads stops at its limit: an endless one ends in a clear error, long before the
/// deadline (which would report a timeout instead) and without holding what it sent.
#[tokio::test]
async fn every_reader_stops_an_endless_body_at_its_limit() {
    const MIB: u64 = 1024 * 1024;
    let capped = |url: &str| {
        Client::builder(url)
            .max_response_bytes(MIB as usize)
            .max_file_bytes(MIB)
            .retry(RetryPolicy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap()
    };
    let status_of = |err: &Error| match err.kind() {
        ErrorKind::Status { status, body, .. } if err.request().is_some() => {
            assert!(body.len() < 2048, "an excerpt, not {} bytes", body.len());
            status.as_u16()
        }
        other => panic!("expected a status error, got {other:?}"),
    };

    // A download's error answer: only an excerpt is read.
    for status in [500, 503] {
        let url = endless(status).await;
        let err = capped(&url)
            .download(&format!("{url}/api/storage/abc"))
            .await
            .unwrap_err();
        assert_eq!(status_of(&err), status, "{err:?}");
    }
    // A download's file: cut at `max_file_bytes`.
    let url = endless(200).await;
    let file = capped(&url)
        .download(&format!("{url}/api/storage/abc"))
        .await
        .unwrap();
    let err = file.bytes().await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::TooLarge { limit: MIB, .. }),
        "{err:?}"
    );

    // An upload's answer, an error or a success without end.
    let url = endless(500).await;
    let upload_url = format!("{url}/api/storage/upload?token=t");
    let err = capped(&url)
        .upload(
            async move { Ok(upload_url) },
            b"file".to_vec(),
            "text/plain",
        )
        .await
        .unwrap_err();
    assert_eq!(status_of(&err), 500);
    let url = endless(200).await;
    let upload_url = format!("{url}/api/storage/upload?token=t");
    let err = capped(&url)
        .upload(
            async move { Ok(upload_url) },
            b"file".to_vec(),
            "text/plain",
        )
        .await
        .unwrap_err();
    assert!(
        err.request().is_some()
            && matches!(err.kind(), ErrorKind::Decode { message, .. }
            if message.contains("larger than 65536 bytes")),
        "{err:?}"
    );

    // An HTTP action's answer: cut at `max_response_bytes`.
    let url = endless(200).await;
    let client = Client::builder(&url)
        .max_response_bytes(MIB as usize)
        .site_url(&url)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = client
        .http_request(convex::Method::GET, "/anything")
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::TooLarge { .. }), "{err:?}");

    // Better Auth's token endpoint: a token is small.
    use convex::token::{BetterAuth, TokenError, TokenSource};
    let url = endless(200).await;
    let err = BetterAuth::new(&url)
        .unwrap()
        .fetch("better-auth.session_token=s")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TokenError::Unavailable { reason } if reason.contains("larger than 65536 bytes")),
        "{err:?}"
    );
}

/// A server's numbers past what a `Duration`, an `Instant` or a `SystemTime` holds are errors or ignored,
/// never a panic: a `Retry-After` of `u64::MAX` seconds under a `max_delay` of `Duration::MAX`, for calls,
/// HTTP actions and downloads.
#[tokio::test]
async fn a_huge_retry_after_is_not_a_panic() {
    let answer = |status: u16| {
        format!(
            "HTTP/1.1 {status} Whatever\r\ncontent-type: text/plain\r\nretry-after: {}\r\ncontent-length: 4\r\nconnection: close\r\n\r\nbusy",
            u64::MAX
        )
        .into_bytes()
    };
    let url = raw_server(Behaviour::Answer(answer(503))).await;
    let client = Client::builder(&url)
        .retry(RetryPolicy::default().max_delay(Duration::MAX))
        .site_url(&url)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let err = client
        .download(&format!("{url}/api/storage/abc"))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Status { status, .. } if status.as_u16() == 503),
        "{err:?}"
    );
    let err = client
        .query::<_, Value>("hostile:case", json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Server { status, .. } if status.as_u16() == 503),
        "{err:?}"
    );
    let answer = client
        .http_request(convex::Method::GET, "/anything")
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 503);
}
