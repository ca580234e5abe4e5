//! Wire conformance of the test deployment: the official Convex JS client (`tests/js/conformance.mjs`, npm
//! `convex` pinned in `tests/js/package-lock.json`) drives a `TestDeployment`, and the same scenarios run
//! through our Rust client, with the same expected outcomes.
//!
//! The JS half needs Node.js with npm (the client installs itself once, see `js_client_dir`); without them it
//! fails (it never skips).

use convex::value::{self, Bytes, Int64};
use convex::{Client, Error, ErrorKind, FetchOptions, StatusCode, Untyped};
use convex_fetch_testing::{Auth, Ctx, FunctionError, TestDeployment};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

/// The token the deployment accepts, and the identity it stands for.
const TOKEN: &str = "conformance-token";
const SUBJECT: &str = "user_1";
const ISSUER: &str = "https://auth.example.com";

/// The same text as `TEXT` in conformance.mjs: accents, CJK, an astral emoji ZWJ sequence, quotes, a
/// backslash, control characters and U+2028.
const TEXT: &str = "h\u{e9}llo w\u{f6}rld \u{2014} \u{65e5}\u{672c}\u{8a9e} \u{1F30D}\u{1F469}\u{200D}\u{1F4BB} \"quoted\" back\\slash\nnew line\ttab \u{2028}";

/// How long the JS client may take for all its scenarios (it has no timeouts of its own).
const JS_TIMEOUT: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------------------------------------
// The values of every Convex type that `values:all` returns and `echo:*` take (`sample()` in the JS).

/// The sample with the Convex-specific types, as a handler returns it and as args are sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Sample {
    int: Int64,
    int_min: Int64,
    int_max: Int64,
    int_neg: Int64,
    bytes: Bytes,
    empty_bytes: Bytes,
    float: f64,
    integral_float: f64,
    nan: f64,
    neg_zero: f64,
    inf: f64,
    neg_inf: f64,
    tiny: f64,
    huge: f64,
    null: (),
    yes: bool,
    no: bool,
    text: String,
    empty_text: String,
    nested: Nested,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Nested {
    list: (f64, Int64, Deep),
    empty_object: BTreeMap<String, f64>,
    empty_array: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Deep {
    deep: ((), Bytes),
}

fn sample() -> Sample {
    Sample {
        int: Int64(42),
        int_min: Int64(i64::MIN),
        int_max: Int64(i64::MAX),
        int_neg: Int64(-1),
        bytes: Bytes(vec![0x00, 0x10, 0x83, 0xff, 0x7f]),
        empty_bytes: Bytes(Vec::new()),
        float: 1.5,
        integral_float: 3.0,
        nan: f64::NAN,
        neg_zero: -0.0,
        inf: f64::INFINITY,
        neg_inf: f64::NEG_INFINITY,
        tiny: 5e-324,
        huge: f64::MAX,
        null: (),
        yes: true,
        no: false,
        text: TEXT.to_owned(),
        empty_text: String::new(),
        nested: Nested {
            list: (
                0.25,
                Int64(2),
                Deep {
                    deep: ((), Bytes(vec![1, 2, 3])),
                },
            ),
            empty_object: BTreeMap::new(),
            empty_array: Vec::new(),
        },
    }
}

/// The sample read into plain Rust types: int64 as `i64`, bytes as `Vec<u8>`, floats as `f64`.
#[derive(Debug, Deserialize)]
struct Plain {
    int: i64,
    int_min: i64,
    int_max: i64,
    int_neg: i64,
    bytes: Vec<u8>,
    empty_bytes: Vec<u8>,
    float: f64,
    integral_float: f64,
    nan: f64,
    neg_zero: f64,
    inf: f64,
    neg_inf: f64,
    tiny: f64,
    huge: f64,
    null: Value,
    yes: bool,
    no: bool,
    text: String,
    empty_text: String,
    nested: PlainNested,
}

#[derive(Debug, Deserialize)]
struct PlainNested {
    list: (f64, i64, PlainDeep),
    empty_object: BTreeMap<String, Value>,
    empty_array: Vec<Value>,
}

#[derive(Debug, Deserialize)]
struct PlainDeep {
    deep: (Value, Vec<u8>),
}

/// Compares decoded values with the sample, floats by bit pattern (NaN by being NaN).
fn check_plain(p: &Plain) -> Result<(), String> {
    let mut wrong = Vec::new();
    let mut int = |name: &str, got: i64, want: i64| {
        if got != want {
            wrong.push(format!("{name}: {got} != {want}"));
        }
    };
    int("int", p.int, 42);
    int("int_min", p.int_min, i64::MIN);
    int("int_max", p.int_max, i64::MAX);
    int("int_neg", p.int_neg, -1);
    int("nested.list[1]", p.nested.list.1, 2);
    let mut float = |name: &str, got: f64, want: f64| {
        if got.to_bits() != want.to_bits() {
            wrong.push(format!(
                "{name}: {got:?} ({:#018x}) != {want:?} ({:#018x})",
                got.to_bits(),
                want.to_bits()
            ));
        }
    };
    float("float", p.float, 1.5);
    float("integral_float", p.integral_float, 3.0);
    float("neg_zero", p.neg_zero, -0.0);
    float("inf", p.inf, f64::INFINITY);
    float("neg_inf", p.neg_inf, f64::NEG_INFINITY);
    float("tiny", p.tiny, 5e-324);
    float("huge", p.huge, f64::MAX);
    float("nested.list[0]", p.nested.list.0, 0.25);
    if !p.nan.is_nan() {
        wrong.push(format!("nan: {:?}", p.nan));
    }
    let mut bytes = |name: &str, got: &[u8], want: &[u8]| {
        if got != want {
            wrong.push(format!("{name}: {got:?} != {want:?}"));
        }
    };
    bytes("bytes", &p.bytes, &[0x00, 0x10, 0x83, 0xff, 0x7f]);
    bytes("empty_bytes", &p.empty_bytes, &[]);
    bytes(
        "nested.list[2].deep[1]",
        &p.nested.list.2.deep.1,
        &[1, 2, 3],
    );
    if !p.null.is_null() || !p.nested.list.2.deep.0.is_null() {
        wrong.push(format!("null: {} / {}", p.null, p.nested.list.2.deep.0));
    }
    if !p.yes || p.no {
        wrong.push(format!("booleans: {} {}", p.yes, p.no));
    }
    if p.text != TEXT || !p.empty_text.is_empty() {
        wrong.push(format!("strings: {:?} {:?}", p.text, p.empty_text));
    }
    if !p.nested.empty_object.is_empty() || !p.nested.empty_array.is_empty() {
        wrong.push(format!(
            "empty containers: {:?} {:?}",
            p.nested.empty_object, p.nested.empty_array
        ));
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the values differ from the sample: {}",
            wrong.join("; ")
        ))
    }
}

/// A Convex-encoded value with every number as an f64, so that `3` (as JS writes it) equals `3.0` (as Rust
/// writes it) while `{"$integer": …}`, `{"$float": …}` and `{"$bytes": …}` are compared exactly.
fn numbers_as_f64(value: Value) -> Value {
    match value {
        Value::Number(n) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number),
        Value::Array(items) => Value::Array(items.into_iter().map(numbers_as_f64).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, numbers_as_f64(v)))
                .collect(),
        ),
        other => other,
    }
}

/// A recorded value's field as the Convex-encoded JSON it travels as.
fn wire(value: &value::Value, field: &str) -> Value {
    value
        .get(field)
        .map(|v| v.to_json().expect("a recorded value encodes"))
        .unwrap_or(Value::Null)
}

fn encoded(value: &impl Serialize) -> Value {
    numbers_as_f64(value::to_value(value).expect("the value encodes"))
}

// ---------------------------------------------------------------------------------------------------------
// The deployment both clients talk to.

#[derive(Deserialize)]
struct Name {
    name: String,
}

#[derive(Deserialize)]
struct By {
    by: i64,
}

/// The args of `counter:increment` as the Rust client sends them. (`json!({ "by": Int64(1) })` does not
/// work: `json!` turns the `Int64` into a `{"$integer": …}` object, which the encoder refuses as a field name
/// starting with `$`.)
#[derive(Serialize)]
struct IncrementBy {
    by: Int64,
}

#[derive(Deserialize)]
struct Text {
    text: String,
}

/// One value of the sample, returned at the top level of an answer.
#[derive(Serialize)]
#[serde(untagged)]
enum One {
    Int(Int64),
    Bytes(Bytes),
    Float(f64),
    Text(String),
    Null(()),
    Bool(bool),
    Object(BTreeMap<String, f64>),
    Array(Vec<f64>),
}

/// The `ConvexError` data `errors:convex` throws.
#[derive(Serialize)]
struct NotFound {
    code: &'static str,
    id: Int64,
    details: NotFoundDetails,
}

#[derive(Serialize)]
struct NotFoundDetails {
    retry: bool,
    tags: [&'static str; 2],
    blob: Bytes,
}

fn expect_kind(ctx: &Ctx, kind: convex::FunctionKind) -> Result<(), FunctionError> {
    if ctx.kind() == kind {
        Ok(())
    } else {
        Err(FunctionError::message(format!(
            "{} runs as a {}, not a {kind}",
            ctx.path(),
            ctx.kind()
        )))
    }
}

async fn start() -> TestDeployment {
    let counter = Arc::new(AtomicI64::new(0));
    let (increment, get) = (counter.clone(), counter);
    TestDeployment::builder()
        .token(TOKEN, json!({ "subject": SUBJECT, "issuer": ISSUER }))
        .query(
            "values:all",
            |_ctx: Ctx, _: Value| async move { Ok(sample()) },
        )
        .query("values:one", |_ctx: Ctx, args: Name| async move {
            let s = sample();
            Ok(match args.name.as_str() {
                "int" => One::Int(s.int),
                "int_min" => One::Int(s.int_min),
                "bytes" => One::Bytes(s.bytes),
                "empty_bytes" => One::Bytes(s.empty_bytes),
                "nan" => One::Float(s.nan),
                "neg_zero" => One::Float(s.neg_zero),
                "inf" => One::Float(s.inf),
                "neg_inf" => One::Float(s.neg_inf),
                "float" => One::Float(s.float),
                "text" => One::Text(s.text),
                "null" => One::Null(()),
                "true" => One::Bool(true),
                "empty_object" => One::Object(BTreeMap::new()),
                "empty_array" => One::Array(Vec::new()),
                other => return Err(FunctionError::message(format!("no value named {other}"))),
            })
        })
        .query(
            "echo:values",
            |_ctx: Ctx, args: Sample| async move { Ok(args) },
        )
        // Untyped, the natural way: a dynamic value in, the same value out, whatever Convex types it holds.
        .query(
            "echo:any",
            |_ctx: Ctx, args: convex::value::Value| async move { Ok(args) },
        )
        .query(
            "echo:throw",
            |_ctx: Ctx, args: convex::value::Value| async move {
                Err::<(), _>(FunctionError::convex(args))
            },
        )
        .query("echo:check", |_ctx: Ctx, args: Plain| async move {
            check_plain(&args)
                .map(|()| "ok")
                .map_err(FunctionError::message)
        })
        .query("errors:plain", |_ctx: Ctx, _: Value| async move {
            Err::<(), _>(FunctionError::message("boom: the handler failed"))
        })
        .mutation("errors:convex", |_ctx: Ctx, _: Value| async move {
            Err::<(), _>(FunctionError::convex(NotFound {
                code: "NOT_FOUND",
                id: Int64(42),
                details: NotFoundDetails {
                    retry: false,
                    tags: ["a", "b"],
                    blob: Bytes(vec![9, 8]),
                },
            }))
        })
        .action("errors:convexString", |_ctx: Ctx, _: Value| async move {
            Err::<(), _>(FunctionError::convex("author is required"))
        })
        .query("errors:convexNull", |_ctx: Ctx, _: Value| async move {
            Err::<(), _>(FunctionError::convex(()))
        })
        .query("logs:query", |ctx: Ctx, _: Value| async move {
            ctx.log(format_args!("hello {}", 42));
            ctx.info("some info");
            ctx.warn("careful");
            ctx.error("bad thing");
            ctx.debug("details");
            Ok("logged")
        })
        .action("logs:action", |ctx: Ctx, _: Value| async move {
            ctx.log("from an action");
            Ok(())
        })
        .mutation("logs:failing", |ctx: Ctx, _: Value| async move {
            ctx.log("about to fail");
            Err::<(), _>(FunctionError::message("failed after logging"))
        })
        .query("auth:whoami", |ctx: Ctx, _: Value| async move {
            Ok(ctx.identity().cloned())
        })
        .mutation("counter:increment", move |ctx: Ctx, args: By| {
            let counter = increment.clone();
            async move {
                expect_kind(&ctx, convex::FunctionKind::Mutation)?;
                Ok(Int64(
                    counter.fetch_add(args.by, Ordering::SeqCst) + args.by,
                ))
            }
        })
        .query("counter:get", move |_ctx: Ctx, _: Value| {
            let counter = get.clone();
            async move { Ok(Int64(counter.load(Ordering::SeqCst))) }
        })
        .action("tasks:run", |ctx: Ctx, args: Text| async move {
            expect_kind(&ctx, convex::FunctionKind::Action)?;
            Ok(json!({ "kind": ctx.kind().to_string(), "text": args.text }))
        })
        .internal_query("secret:internal", |_ctx: Ctx, _: Value| async move {
            Ok("internal ok")
        })
        .start()
        .await
}

// ---------------------------------------------------------------------------------------------------------
// The official JS client.

use convex_fetch_tests::js_client_dir;

/// Runs `node conformance.mjs <url> <token> <admin key>`, killing it after `JS_TIMEOUT`; returns its exit
/// status, stdout and stderr.
fn run_node(url: &str, admin_key: &str) -> (std::process::ExitStatus, String, String) {
    let dir = js_client_dir();
    let mut child = Command::new("node")
        .arg(dir.join("conformance.mjs"))
        .args([url, TOKEN, admin_key])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not run `node` ({e}): install Node.js 20 or later"));
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("stdout is piped")));
    let stderr = read(Box::new(child.stderr.take().expect("stderr is piped")));
    let deadline = Instant::now() + JS_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for node") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "node conformance.mjs did not finish within {JS_TIMEOUT:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                stdout.join().unwrap_or_default(),
                stderr.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (
        status,
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn official_js_client_conformance() {
    // Never skipped: on a fresh clone the pinned JS client is installed from the lockfile; a machine that
    // cannot install it fails here, saying how.
    let deployment = start().await;
    let url = deployment.url().to_owned();
    let admin_key = deployment.admin_key().to_owned();
    let (status, stdout, stderr) = tokio::task::spawn_blocking(move || run_node(&url, &admin_key))
        .await
        .expect("the node runner panicked");
    // Shown with `--nocapture`: one `ok <scenario>` line per scenario.
    println!("{stdout}");
    assert!(
        status.success(),
        "the official JS client disagrees with the test deployment ({status})\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
    );
    assert!(
        stdout.contains("scenarios passed") && !stdout.contains("FAIL"),
        "unexpected output of conformance.mjs\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
    );

    // What the JS client put on the wire, as the deployment recorded it.
    let calls = deployment.calls();
    let find = |path: &str, endpoint: &str| {
        calls
            .iter()
            .find(|call| call.path == path && call.endpoint == endpoint)
            .unwrap_or_else(|| panic!("no call of {path} on {endpoint} in {calls:#?}"))
    };
    // JS and Rust encode the sample identically (bigint → $integer, ArrayBuffer → $bytes, NaN/-0/±∞ → $float).
    let echo = find("echo:values", "/api/query");
    assert_eq!(echo.args, value::Value::from_serialize(&sample()).unwrap());
    assert_eq!(
        wire(&echo.args, "int"),
        json!({ "$integer": "KgAAAAAAAAA=" })
    );
    assert_eq!(
        wire(&echo.args, "neg_zero"),
        json!({ "$float": "AAAAAAAAAIA=" })
    );
    assert_eq!(wire(&echo.args, "bytes"), json!({ "$bytes": "ABCD/38=" }));
    assert_eq!(echo.kind, convex::FunctionKind::Query);
    let whoami = calls
        .iter()
        .find(|call| matches!(&call.auth, Auth::Bearer { token, .. } if token == TOKEN))
        .expect("a call with the bearer token");
    assert_eq!(
        whoami.auth.identity().map(|identity| &identity["subject"]),
        Some(&json!(SUBJECT))
    );
    assert!(calls.iter().any(|call| call.auth == Auth::Admin));
    assert!(calls.iter().any(
        |call| matches!(&call.auth, Auth::ActingAs(identity) if identity["subject"] == "acting_as")
    ));
    assert!(
        calls
            .iter()
            .any(|call| call.endpoint == "/api/query_at_ts" && call.path == "values:one")
    );
    assert!(
        calls
            .iter()
            .any(|call| call.endpoint == "/api/function" && call.path == "tasks:run")
    );
    // The queued mutations arrived in order.
    let increments: Vec<i64> = calls
        .iter()
        .filter(|call| call.path == "counter:increment" && call.endpoint == "/api/mutation")
        .map(|call| call.decode_args::<By>().expect("increment args").by)
        .collect();
    assert_eq!(increments, [1, 10, 100, 1000, -1111]);
}

// ---------------------------------------------------------------------------------------------------------
// The same scenarios through the Rust client.

fn function_error(err: Error) -> (String, Option<value::Value>, Vec<String>) {
    match err.into_kind() {
        ErrorKind::Function {
            message,
            data,
            log_lines,
            ..
        } => (message, data, log_lines),
        other => panic!("expected a function failure, got {other:?}"),
    }
}

fn server_error(err: Error) -> (StatusCode, String, String) {
    match err.into_kind() {
        ErrorKind::Server {
            status,
            code,
            message,
            ..
        } => (status, code, message),
        other => panic!("expected a system failure, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rust_values() {
    let deployment = start().await;
    let client = deployment.client();
    let plain: Plain = client.query("values:all", json!({})).await.unwrap();
    check_plain(&plain).unwrap();
    let typed: Sample = client.query("values:all", json!({})).await.unwrap();
    assert_eq!(encoded(&typed), encoded(&sample()));
    assert_eq!(typed.int, Int64(42));
    assert_eq!(typed.bytes, Bytes(vec![0x00, 0x10, 0x83, 0xff, 0x7f]));
}

#[tokio::test(flavor = "multi_thread")]
async fn rust_top_level_values() {
    let deployment = start().await;
    let client = deployment.client();
    let one = |name: &str| client.query::<_, Value>("values:one", json!({ "name": name }));
    // Untyped, special values decode to plain JSON: int64 as a number, bytes as an array of numbers.
    assert_eq!(one("int").await.unwrap(), json!(42));
    let int: i64 = client
        .query("values:one", json!({ "name": "int_min" }))
        .await
        .unwrap();
    assert_eq!(int, i64::MIN);
    for (name, want) in [
        ("bytes", vec![0x00, 0x10, 0x83, 0xff, 0x7f]),
        ("empty_bytes", vec![]),
    ] {
        let bytes: Vec<u8> = client
            .query("values:one", json!({ "name": name }))
            .await
            .unwrap();
        assert_eq!(bytes, want, "{name}");
        let bytes: Bytes = client
            .query("values:one", json!({ "name": name }))
            .await
            .unwrap();
        assert_eq!(bytes.0, want, "{name}");
    }
    for (name, want) in [
        ("neg_zero", -0.0),
        ("inf", f64::INFINITY),
        ("neg_inf", f64::NEG_INFINITY),
        ("float", 1.5),
    ] {
        let x: f64 = client
            .query("values:one", json!({ "name": name }))
            .await
            .unwrap();
        assert_eq!(x.to_bits(), want.to_bits(), "{name}: {x:?}");
    }
    let nan: f64 = client
        .query("values:one", json!({ "name": "nan" }))
        .await
        .unwrap();
    assert!(nan.is_nan());
    assert_eq!(one("text").await.unwrap(), json!(TEXT));
    assert_eq!(one("null").await.unwrap(), Value::Null);
    assert_eq!(one("true").await.unwrap(), json!(true));
    assert_eq!(one("empty_object").await.unwrap(), json!({}));
    assert_eq!(one("empty_array").await.unwrap(), json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn rust_args() {
    let deployment = start().await;
    let client = deployment.client();
    // Round trip: Rust encodes, the handler decodes into Int64/Bytes/f64 and returns them.
    let echoed: Sample = client.query("echo:values", sample()).await.unwrap();
    assert_eq!(encoded(&echoed), encoded(&sample()));
    // The handler reads i64, Vec<u8> and f64 and compares bit patterns.
    let ok: String = client.query("echo:check", sample()).await.unwrap();
    assert_eq!(ok, "ok");
    // On the wire, exactly as the JS client sends it.
    let calls = deployment.calls();
    assert_eq!(
        wire(&calls[0].args, "int"),
        json!({ "$integer": "KgAAAAAAAAA=" })
    );
    assert_eq!(
        wire(&calls[0].args, "neg_zero"),
        json!({ "$float": "AAAAAAAAAIA=" })
    );
    assert_eq!(
        wire(&calls[0].args, "bytes"),
        json!({ "$bytes": "ABCD/38=" })
    );
    assert_eq!(
        calls[0].args,
        value::Value::from_serialize(&sample()).unwrap()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rust_argument_validation() {
    let deployment = start().await;
    // A string where the handler expects an int64 (the JS client sends the whole sample with it).
    let err = deployment
        .client()
        .query::<_, String>("echo:check", json!({ "int": "forty-two" }))
        .await
        .unwrap_err();
    let ErrorKind::Function { details, data, .. } = err.kind() else {
        panic!("{err:?}")
    };
    assert_eq!(
        details.name.as_deref(),
        Some("ArgumentValidationError"),
        "{err:?}"
    );
    assert!(
        details.raw_message.contains("\nArgumentValidationError: "),
        "{details:?}"
    );
    assert_eq!(data, &None);
    assert_eq!(deployment.executions("echo:check"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn rust_errors() {
    let deployment = start().await;
    let client = deployment.client();

    let err = client
        .query::<_, ()>("errors:plain", json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(err.data::<Value>().is_none());
    let (message, data, _) = function_error(err);
    assert!(message.contains("boom: the handler failed"), "{message}");
    assert_eq!(data, None);

    #[derive(Debug, Deserialize)]
    struct NotFoundRead {
        code: String,
        id: i64,
        details: DetailsRead,
    }
    #[derive(Debug, Deserialize)]
    struct DetailsRead {
        retry: bool,
        tags: Vec<String>,
        blob: Vec<u8>,
    }
    let err = client
        .mutation::<_, ()>("errors:convex", json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.status_code(), StatusCode::BAD_REQUEST);
    let data: NotFoundRead = err.data().expect("ConvexError data").unwrap();
    assert_eq!(
        (data.code.as_str(), data.id, data.details.retry),
        ("NOT_FOUND", 42, false)
    );
    assert_eq!(data.details.tags, ["a", "b"]);
    assert_eq!(data.details.blob, [9, 8]);
    let (message, _, _) = function_error(err);
    assert_eq!(
        message,
        r#"{"code":"NOT_FOUND","details":{"blob":{},"retry":false,"tags":["a","b"]},"id":"42n"}"#
    );

    let err = client
        .action::<_, ()>("errors:convexString", json!({}))
        .await
        .unwrap_err();
    assert_eq!(
        err.data::<String>().expect("ConvexError data").unwrap(),
        "author is required"
    );
    let (message, _, _) = function_error(err);
    assert_eq!(message, "author is required");
}

/// `throw new ConvexError(null)` answers `"errorData": null`: the JS client throws a `ConvexError` whose data
/// is `null` (scenario `convex_error_null`), and so should we.
#[tokio::test(flavor = "multi_thread")]
async fn rust_convex_error_null() {
    let deployment = start().await;
    let err = deployment
        .client()
        .query::<_, ()>("errors:convexNull", json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.status_code(), StatusCode::BAD_REQUEST, "{err:?}");
    assert_eq!(err.data::<Value>().map(Result::unwrap), Some(Value::Null));
    let (message, _, _) = function_error(err);
    assert_eq!(message, "null");
}

#[tokio::test(flavor = "multi_thread")]
async fn rust_log_lines() {
    let deployment = start().await;
    let client = deployment.client();
    // The call is polled on this thread (a call is not spawned), so this thread's capture sees it.
    let (captured, guard) = crate::support::Logs::capture();
    let logged: String = client.query("logs:query", json!({})).await.unwrap();
    client
        .action::<_, ()>("logs:action", json!({}))
        .await
        .unwrap();
    drop(guard);
    assert_eq!(logged, "logged");
    let text = captured.text();
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("convex_fetch::function_log"))
        .collect();
    let expected = [
        ("INFO", "[CONVEX Q(logs:query)] [LOG] hello 42"),
        ("INFO", "[CONVEX Q(logs:query)] [INFO] some info"),
        ("WARN", "[CONVEX Q(logs:query)] [WARN] careful"),
        ("ERROR", "[CONVEX Q(logs:query)] [ERROR] bad thing"),
        ("DEBUG", "[CONVEX Q(logs:query)] [DEBUG] details"),
        ("INFO", "[CONVEX A(logs:action)] [LOG] from an action"),
    ];
    assert_eq!(lines.len(), expected.len(), "{text}");
    for (line, (level, message)) in lines.iter().zip(expected) {
        assert!(
            line.contains(level) && line.ends_with(message),
            "{line:?} is not {level} {message:?}"
        );
    }

    // A failing function's lines come with the error.
    let err = client
        .mutation::<_, ()>("logs:failing", json!({}))
        .await
        .unwrap_err();
    let (message, _, log_lines) = function_error(err);
    assert!(message.contains("failed after logging"), "{message}");
    assert_eq!(log_lines, ["[LOG] about to fail"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn rust_auth() {
    let deployment = start().await;
    let authed = Client::builder(deployment.url())
        .auth(TOKEN)
        .build()
        .unwrap();
    let identity: Option<Value> = authed.query("auth:whoami", json!({})).await.unwrap();
    let identity = identity.expect("the handler saw the identity");
    assert_eq!(identity["subject"], SUBJECT);
    assert_eq!(identity["issuer"], ISSUER);
    // Per call, too.
    let identity: Option<Value> = deployment
        .client()
        .query("auth:whoami", json!({}))
        .auth(TOKEN)
        .await
        .unwrap();
    assert_eq!(identity.unwrap()["subject"], SUBJECT);

    let anonymous: Option<Value> = deployment
        .client()
        .query("auth:whoami", json!({}))
        .await
        .unwrap();
    assert_eq!(anonymous, None);

    let err = deployment
        .client()
        .query::<_, Option<Value>>("auth:whoami", json!({}))
        .auth("not-a-valid-token")
        .await
        .unwrap_err();
    assert!(err.provably_not_run());
    let (status, code, message) = server_error(err);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "InvalidAuthHeader")
    );
    assert!(!message.is_empty());
    assert_eq!(deployment.executions("auth:whoami"), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn rust_admin() {
    let deployment = start().await;
    let admin = Client::builder(deployment.url())
        .admin_key(deployment.admin_key())
        .build()
        .unwrap();
    let secret: String = admin.query("secret:internal", json!({})).await.unwrap();
    assert_eq!(secret, "internal ok");
    let identity: Option<Value> = admin.query("auth:whoami", json!({})).await.unwrap();
    assert_eq!(identity, None);
    let identity: Option<Value> = deployment
        .client()
        .query("auth:whoami", json!({}))
        .options(FetchOptions::new().admin_key_acting_as(
            deployment.admin_key(),
            &json!({ "subject": "acting_as", "issuer": ISSUER }),
        ))
        .await
        .unwrap();
    assert_eq!(identity.unwrap()["subject"], "acting_as");
    let err = deployment
        .client()
        .query::<_, String>("secret:internal", json!({}))
        .await
        .unwrap_err();
    let (message, _, _) = function_error(err);
    assert!(
        message.contains("Could not find public function for 'secret:internal'"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rust_mutation_and_action() {
    let deployment = start().await;
    let client = deployment.client();
    let count: i64 = client
        .mutation("counter:increment", IncrementBy { by: Int64(1) })
        .await
        .unwrap();
    assert_eq!(count, 1);
    let count: i64 = client.query("counter:get", json!({})).await.unwrap();
    assert_eq!(count, 1);
    for (by, want) in [(10, 11), (100, 111), (1000, 1111), (-1111, 0)] {
        let count: i64 = client
            .mutation("counter:increment", IncrementBy { by: Int64(by) })
            .await
            .unwrap();
        assert_eq!(count, want);
    }
    let ran: Value = client
        .action("tasks:run", json!({ "text": "hi" }))
        .await
        .unwrap();
    assert_eq!(ran, json!({ "kind": "action", "text": "hi" }));

    // A consistent snapshot: /api/query_ts, then /api/query_at_ts.
    let snapshot = client.snapshot().await.unwrap();
    let int: i64 = snapshot
        .query(Untyped::query("values:one", json!({ "name": "int" })))
        .await
        .unwrap();
    assert_eq!(int, 42);
    let count: i64 = snapshot
        .query(Untyped::query("counter:get", json!({})))
        .await
        .unwrap();
    assert_eq!(count, 0);
    assert!(
        deployment
            .calls()
            .iter()
            .any(|call| call.endpoint == "/api/query_at_ts")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rust_unknown_function_wrong_kind_and_bad_path() {
    let deployment = start().await;
    let client = deployment.client();
    let err = client
        .query::<_, Value>("missing:nothing", json!({}))
        .await
        .unwrap_err();
    let (message, _, _) = function_error(err);
    assert!(
        message.contains("Could not find public function for 'missing:nothing'"),
        "{message}"
    );

    let cases = [
        (
            client.mutation::<_, Value>("values:all", json!({})).await,
            "Trying to execute values.js:all as Mutation, but it is defined as Query.",
        ),
        (
            client
                .action::<_, Value>("counter:increment", IncrementBy { by: Int64(1) })
                .await,
            "Trying to execute counter.js:increment as Action, but it is defined as Mutation.",
        ),
        (
            client
                .query::<_, Value>("tasks:run", json!({ "text": "x" }))
                .await,
            "Trying to execute tasks.js:run as Query, but it is defined as Action.",
        ),
    ];
    for (result, want) in cases {
        let (message, _, _) = function_error(result.unwrap_err());
        assert!(message.contains(want), "{message} does not contain {want}");
    }
    assert_eq!(deployment.executions("counter:increment"), 0);

    let err = client
        .query::<_, Value>("values::all", json!({}))
        .await
        .unwrap_err();
    let (status, code, _) = server_error(err);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_REQUEST, "BadConvexFunctionIdentifier")
    );
}
