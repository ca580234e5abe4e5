//! A fuzz stand-in (no nightly toolchain, so no cargo-fuzz): proptest feeds arbitrary bytes and arbitrary
//! Convex-ish JSON as the body of an answer, through a local server and a real call, and straight into the
//! value decoder, for untyped and typed targets.
//!
//! Properties: nothing panics; an answer with HTTP 200 (or 560) either decodes or fails with `ErrorKind::Decode`
//! (or `ErrorKind::Function` when it is a well-formed function failure) naming the function; a value decoded by
//! a call is exactly what `convex::value::from_slice` makes of the value's bytes; any other status is a
//! `ErrorKind::Server` quoting a bounded excerpt.
//!
//! 128 cases per property by default; `PROPTEST_CASES=20000 cargo test -p convex-fetch-tests --test suite
//! fuzz::` runs a longer campaign.

use std::collections::{BTreeMap, HashMap};
use std::future::IntoFuture;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use convex::value::{Bytes, Int64};
use convex::{Client, Error, ErrorKind, RetryPolicy};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

/// Cases per property: `PROPTEST_CASES` when set, else a number small enough for CI.
fn config() -> Config {
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() {
        Config::default().cases
    } else {
        128
    };
    Config {
        cases,
        ..Config::default()
    }
}

/// The answers the server gives, by function path: each case registers its own under a fresh path.
type Answers = Arc<Mutex<HashMap<String, (u16, Vec<u8>)>>>;

/// A server answering each call with the status and bytes registered for its path, on its own runtime.
struct Server {
    runtime: tokio::runtime::Runtime,
    client: Client,
    answers: Answers,
    next: AtomicU64,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let answers = Answers::default();
        let table = answers.clone();
        let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
            let table = table.clone();
            async move {
                let path = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|request| request["path"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                let (status, bytes) = table
                    .lock()
                    .unwrap()
                    .get(&path)
                    .cloned()
                    .unwrap_or((404, b"no answer registered".to_vec()));
                (
                    axum::http::StatusCode::from_u16(status).unwrap(),
                    [("content-type", "application/json")],
                    bytes,
                )
            }
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        runtime.spawn(async move { axum::serve(listener, app).await });
        let client = Client::builder(url)
            .retry(RetryPolicy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Server {
            runtime,
            client,
            answers,
            next: AtomicU64::new(0),
        }
    })
}

/// Calls a query whose answer is `status` with `body`; returns its path and result.
fn call<T: DeserializeOwned + Send + 'static>(
    status: u16,
    body: &[u8],
) -> (String, Result<T, Error>) {
    let server = server();
    let path = format!("fuzz:case{}", server.next.fetch_add(1, Ordering::Relaxed));
    server
        .answers
        .lock()
        .unwrap()
        .insert(path.clone(), (status, body.to_vec()));
    let result = server.runtime.block_on(
        server
            .client
            .query::<_, T>(path.clone(), json!({}))
            .into_future(),
    );
    server.answers.lock().unwrap().remove(&path);
    (path, result)
}

/// The parts of an answer a well-formed function response has, read as the client should.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<'a> {
    status: String,
    #[serde(borrow, default, deserialize_with = "present")]
    value: Option<&'a RawValue>,
    #[allow(dead_code)]
    error_message: Option<String>,
    #[serde(borrow, default, deserialize_with = "present")]
    error_data: Option<&'a RawValue>,
    #[allow(dead_code)]
    #[serde(default)]
    log_lines: Vec<String>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// A typed target with a bit of everything the decoder treats specially.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Typed {
    a: Option<i64>,
    b: Option<f64>,
    c: Option<Vec<u8>>,
    #[serde(default)]
    d: Vec<Typed>,
    e: Option<BTreeMap<String, String>>,
    f: Option<Kind>,
    g: Option<Int64>,
    h: Option<Bytes>,
    #[serde(flatten)]
    rest: BTreeMap<String, Value>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
enum Kind {
    A,
    B(i64),
    C { x: f64 },
}

/// Checks a call's result against the answer it was given.
fn check<T: std::fmt::Debug>(
    status: u16,
    body: &[u8],
    path: &str,
    result: &Result<T, Error>,
) -> Result<(), TestCaseError> {
    let envelope = serde_json::from_slice::<Envelope<'_>>(body).ok();
    match result {
        Ok(_) => {
            prop_assert!(status == 200 || status == 560, "HTTP {status} succeeded");
            let envelope = envelope.as_ref();
            prop_assert!(
                envelope.is_some_and(|e| e.status == "success" && e.value.is_some()),
                "accepted something that is not a success answer: {}",
                String::from_utf8_lossy(body)
            );
        }
        Err(err) => {
            let shown = err.to_string();
            prop_assert!(
                shown.contains(&format!("query `{path}`")),
                "the error does not name the function: {shown}"
            );
            match err.kind() {
                ErrorKind::Decode { .. } => {
                    prop_assert!(status == 200 || status == 560 || status >= 400, "{err:?}");
                }
                ErrorKind::Function { .. } => {
                    prop_assert!(status == 200 || status == 560, "{err:?}");
                    prop_assert!(
                        envelope.as_ref().is_some_and(|e| e.status == "error"),
                        "a function failure from something that is not one: {}",
                        String::from_utf8_lossy(body)
                    );
                }
                ErrorKind::Server { message, .. } => {
                    prop_assert!(status != 200 && status != 560, "{err:?}");
                    prop_assert!(message.chars().count() <= 201, "{message}");
                }
                _ => prop_assert!(false, "unexpected error {err:?}"),
            }
        }
    }
    Ok(())
}

/// Runs one answer through calls with several targets, and checks the untyped one against the decoder.
fn exercise(status: u16, body: &[u8]) -> Result<(), TestCaseError> {
    let (path, untyped) = call::<Value>(status, body);
    check(status, body, &path, &untyped)?;
    if let Ok(value) = &untyped {
        // What the call decoded is exactly what the decoder makes of the value's bytes.
        let envelope: Envelope<'_> = serde_json::from_slice(body).unwrap();
        let raw = envelope.value.unwrap().get();
        let direct: Value = convex::value::from_slice(raw.as_bytes()).unwrap();
        prop_assert_eq!(value, &direct);
    }
    if let Some(ErrorKind::Function { data, .. }) = untyped.as_ref().err().map(Error::kind) {
        let envelope: Envelope<'_> = serde_json::from_slice(body).unwrap();
        let direct = envelope.error_data.map(|raw| {
            convex::value::from_slice::<convex::value::Value>(raw.get().as_bytes()).unwrap()
        });
        prop_assert_eq!(data, &direct);
    }
    let (path, typed) = call::<Typed>(status, body);
    check(status, body, &path, &typed)?;
    let (path, unit) = call::<()>(status, body);
    check(status, body, &path, &unit)?;
    Ok(())
}

/// The decoder alone, on any bytes, into every kind of target: errors are fine, panics are not.
fn decode_everything(bytes: &[u8]) {
    let _ = convex::value::from_slice::<Value>(bytes);
    let _ = convex::value::from_slice::<Typed>(bytes);
    let _ = convex::value::from_slice::<Vec<Typed>>(bytes);
    let _ = convex::value::from_slice::<i64>(bytes);
    let _ = convex::value::from_slice::<u8>(bytes);
    let _ = convex::value::from_slice::<f64>(bytes);
    let _ = convex::value::from_slice::<f32>(bytes);
    let _ = convex::value::from_slice::<String>(bytes);
    let _ = convex::value::from_slice::<&str>(bytes);
    let _ = convex::value::from_slice::<Vec<u8>>(bytes);
    let _ = convex::value::from_slice::<Int64>(bytes);
    let _ = convex::value::from_slice::<Bytes>(bytes);
    let _ = convex::value::from_slice::<Option<Kind>>(bytes);
    let _ = convex::value::from_slice::<HashMap<String, Option<i64>>>(bytes);
    let _ = convex::value::from_slice::<(i64, f64, Vec<u8>)>(bytes);
    let _ = convex::value::from_slice::<()>(bytes);
    if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
        let _ = convex::value::from_value::<Typed>(value.clone());
        let _ = convex::value::from_value::<Value>(value.clone());
        let _ = convex::value::from_value::<Int64>(value);
    }
}

/// Standard base64 with padding, as the encoder writes `$bytes`.
fn base64(bytes: Vec<u8>) -> String {
    match convex::value::to_value(&Bytes(bytes)).unwrap() {
        Value::Object(mut object) => match object.remove("$bytes") {
            Some(Value::String(text)) => text,
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

/// Text that is sometimes valid base64 (of 8 bytes or not), sometimes nearly, sometimes anything.
fn base64ish() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<[u8; 8]>().prop_map(|b| base64(b.to_vec())),
        2 => proptest::collection::vec(any::<u8>(), 0..12).prop_map(base64),
        2 => "[A-Za-z0-9+/=]{0,16}",
        1 => "[-_A-Za-z0-9]{0,12}",
        1 => ".{0,6}",
    ]
}

/// Keys, with a fair share of special and reserved ones.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-h]{1,3}",
        1 => Just("$integer".to_owned()),
        1 => Just("$float".to_owned()),
        1 => Just("$bytes".to_owned()),
        1 => prop_oneof![Just("$set".to_owned()), Just("$map".to_owned()), "\\$[a-z]{0,6}"],
        1 => ".{0,4}",
    ]
}

/// A special object: `{"$integer"|"$float"|"$bytes": …}`, well-formed or not.
fn special() -> impl Strategy<Value = Value> {
    let tag = prop_oneof![
        Just("$integer"),
        Just("$float"),
        Just("$bytes"),
        Just("$set"),
        Just("$map"),
        Just("$other"),
    ];
    let payload = prop_oneof![
        6 => base64ish().prop_map(Value::String),
        1 => Just(Value::Null),
        1 => any::<i64>().prop_map(Value::from),
        1 => Just(json!([])),
    ];
    (tag, payload, proptest::option::weighted(0.1, "[a-z]{1,3}")).prop_map(
        |(tag, payload, extra)| {
            let mut object = Map::new();
            object.insert(tag.to_owned(), payload);
            if let Some(extra) = extra {
                object.insert(extra, Value::Null);
            }
            Value::Object(object)
        },
    )
}

/// A well-formed special object: an int64, a float JSON cannot hold, or bytes.
fn valid_special() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(|i| json!({ "$integer": base64(i.to_le_bytes().to_vec()) })),
        prop_oneof![
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(-0.0)
        ]
        .prop_map(|f: f64| json!({ "$float": base64(f.to_le_bytes().to_vec()) })),
        proptest::collection::vec(any::<u8>(), 0..16).prop_map(|b| json!({ "$bytes": base64(b) })),
    ]
}

/// JSON that looks like Convex values: scalars, special objects, and arrays and objects of them.
fn convexish() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,8}".prop_map(Value::String),
        valid_special(),
        special(),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(key(), inner, 0..4)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// Well-formed Convex values only: what a real deployment sends.
fn valid_convex() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-(1i64 << 53)..(1i64 << 53)).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| Value::Number(serde_json::Number::from_f64(f).unwrap())),
        any::<String>().prop_map(Value::String),
        valid_special(),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-zA-Z_][a-zA-Z0-9_]{0,6}", inner, 0..4)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// What decoding a well-formed value into `serde_json::Value` must give, worked out independently: an int64
/// is its number, bytes are an array of numbers, and a float JSON cannot hold (NaN, ±∞) is `null`.
fn plain(value: &Value) -> Value {
    let decode = |text: &Value| {
        let bytes =
            convex::value::from_slice::<Bytes>(json!({ "$bytes": text }).to_string().as_bytes())
                .unwrap();
        bytes.0
    };
    match value {
        Value::Array(items) => Value::Array(items.iter().map(plain).collect()),
        Value::Object(fields) if fields.len() == 1 => {
            let (key, payload) = fields.iter().next().unwrap();
            match key.as_str() {
                "$integer" => Value::from(i64::from_le_bytes(decode(payload).try_into().unwrap())),
                "$float" => serde_json::Number::from_f64(f64::from_le_bytes(
                    decode(payload).try_into().unwrap(),
                ))
                .map_or(Value::Null, Value::Number),
                "$bytes" => Value::Array(decode(payload).into_iter().map(Value::from).collect()),
                _ => Value::Object(fields.iter().map(|(k, v)| (k.clone(), plain(v))).collect()),
            }
        }
        Value::Object(fields) => {
            Value::Object(fields.iter().map(|(k, v)| (k.clone(), plain(v))).collect())
        }
        // A whole float64 within ±2^53 reads as an integer in a `serde_json::Value` (-0 stays a float).
        Value::Number(n) => match n.as_f64() {
            Some(f)
                if f.fract() == 0.0
                    && f.abs() <= 9_007_199_254_740_992.0
                    && !(f == 0.0 && f.is_sign_negative()) =>
            {
                Value::from(f as i64)
            }
            _ => value.clone(),
        },
        other => other.clone(),
    }
}

/// A function answer, well-formed or subtly not: any status, any fields present or missing or mistyped.
fn envelope() -> impl Strategy<Value = Value> {
    let status = prop_oneof![
        4 => Just(json!("success")),
        3 => Just(json!("error")),
        1 => ".{0,7}".prop_map(Value::String),
        1 => convexish(),
    ];
    let log_lines = prop_oneof![
        3 => proptest::collection::vec(".{0,10}".prop_map(Value::String), 0..3).prop_map(Value::Array),
        1 => convexish(),
    ];
    (
        proptest::option::weighted(0.95, status),
        proptest::option::weighted(0.8, convexish()),
        proptest::option::weighted(
            0.5,
            prop_oneof![3 => ".{0,12}".prop_map(Value::String), 1 => convexish()],
        ),
        proptest::option::weighted(0.4, convexish()),
        proptest::option::weighted(0.3, log_lines),
    )
        .prop_map(|(status, value, message, data, log_lines)| {
            let mut object = Map::new();
            for (name, field) in [
                ("status", status),
                ("value", value),
                ("errorMessage", message),
                ("errorData", data),
                ("logLines", log_lines),
            ] {
                if let Some(field) = field {
                    object.insert(name.to_owned(), field);
                }
            }
            Value::Object(object)
        })
}

/// An answer's bytes: an envelope as is, cut short, with a byte changed, or with bytes spliced in.
fn answer_bytes() -> impl Strategy<Value = Vec<u8>> {
    (
        envelope(),
        any::<prop::sample::Index>(),
        any::<u8>(),
        0..4u8,
    )
        .prop_map(|(envelope, at, byte, how)| {
            let mut bytes = serde_json::to_vec(&envelope).unwrap();
            let i = at.index(bytes.len() + 1);
            match how {
                0 | 1 => {}
                2 => bytes.truncate(i),
                _ => {
                    if i < bytes.len() {
                        bytes[i] = byte;
                    } else {
                        bytes.push(byte);
                    }
                }
            }
            bytes
        })
}

fn any_status() -> impl Strategy<Value = u16> {
    prop_oneof![
        8 => Just(200u16),
        2 => Just(560u16),
        1 => prop_oneof![Just(400u16), Just(401), Just(429), Just(500), Just(502), Just(503)],
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_as_an_answer(status in any_status(), body in proptest::collection::vec(any::<u8>(), 0..256)) {
        exercise(status, &body)?;
    }

    #[test]
    fn arbitrary_bytes_as_a_value(value in proptest::collection::vec(any::<u8>(), 0..128)) {
        let mut body = br#"{"status":"success","value":"#.to_vec();
        body.extend_from_slice(&value);
        body.push(b'}');
        exercise(200, &body)?;
    }

    #[test]
    fn convexish_answers(status in any_status(), body in answer_bytes()) {
        exercise(status, &body)?;
    }

    #[test]
    fn well_formed_successes_decode_to_their_value(
        status in prop_oneof![Just(200u16), Just(560u16)],
        value in valid_convex(),
        log_lines in proptest::collection::vec("\\[(LOG|INFO|WARN|ERROR|DEBUG)\\] .{0,12}", 0..3),
    ) {
        let body = serde_json::to_vec(&json!({ "status": "success", "value": value, "logLines": log_lines })).unwrap();
        let (_, result) = call::<Value>(status, &body);
        match result {
            Ok(decoded) => prop_assert_eq!(decoded, plain(&value)),
            Err(err) => prop_assert!(false, "{err:?}"),
        }
    }

    #[test]
    fn well_formed_failures_keep_their_message_and_data(
        status in prop_oneof![Just(200u16), Just(560u16)],
        message in any::<String>(),
        data in proptest::option::of(valid_convex()),
    ) {
        let mut answer = json!({ "status": "error", "errorMessage": message });
        if let Some(data) = &data {
            answer["errorData"] = data.clone();
        }
        let (path, result) = call::<Value>(status, &serde_json::to_vec(&answer).unwrap());
        match result {
            Err(err) => {
                let ErrorKind::Function { message: got, data: got_data, details, .. } = err.kind() else {
                    return Err(TestCaseError::fail(format!("{err:?}")));
                };
                prop_assert_eq!(&details.raw_message, &message);
                prop_assert!(message.contains(got.as_str()) || got == "Server Error", "{got:?} of {message:?}");
                // The data keeps its Convex types; read as plain JSON, it is what JSON can hold of it.
                let exact = data.clone().map(|d| convex::value::Value::from_json(d).unwrap());
                prop_assert_eq!(got_data, &exact);
                let as_json = got_data.as_ref().map(|d| d.deserialize_into::<Value>().unwrap());
                prop_assert_eq!(as_json, data.as_ref().map(plain));
                prop_assert_eq!(&err.function().unwrap().path, &path);
            }
            other => prop_assert!(false, "{other:?}"),
        }
    }

    #[test]
    fn the_decoder_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        decode_everything(&bytes);
    }

    #[test]
    fn the_decoder_never_panics_on_convexish_json(value in convexish()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        decode_everything(&bytes);
        // Wrapped in the fields of the typed target, so that special objects land where scalars are expected.
        for field in ["a", "b", "c", "d", "e", "f", "g", "h"] {
            decode_everything(&serde_json::to_vec(&json!({ field: value })).unwrap());
        }
    }
}

/// A JWT (unsigned) whose claims are `claims`.
fn jwt_with(claims: &Value) -> String {
    use base64::Engine as _;
    let part = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    format!(
        "{}.{}.sig",
        part(br#"{"alg":"none"}"#),
        part(claims.to_string().as_bytes())
    )
}

/// An `exp` claim as a server may send one: any float, the edges of what a `Duration` and a `SystemTime`
/// hold, or not a number at all.
fn any_exp() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<f64>().prop_map(|f| json!(f)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<i64>().prop_map(|n| json!(n)),
        prop_oneof![
            Just(1e19),
            Just(1e300),
            Just(f64::MAX),
            Just(9.2e18),
            Just(u64::MAX as f64),
            Just(i64::MAX as f64),
            Just(-0.0),
        ]
        .prop_map(|f| json!(f)),
        convexish(),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// A token's expiry is read from whatever `exp` its server put in it without panicking; one it cannot
    /// place in time is no expiry, and one it can is exactly that many seconds after the epoch.
    #[test]
    fn any_exp_claim_makes_a_token(exp in any_exp()) {
        let token = convex::token::Token::new(jwt_with(&json!({ "exp": exp })));
        if let Some(at) = token.expires_at() {
            let secs = at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
            let exp = exp.as_f64().unwrap();
            prop_assert!((secs - exp).abs() <= exp.abs() * 1e-9 + 1e-6, "{secs} for {exp}");
        }
    }
}

/// The `Retry-After` the busy server sends next, set by each case.
static RETRY_AFTER: Mutex<String> = Mutex::new(String::new());

/// A server answering everything 503 with the `Retry-After` of [`RETRY_AFTER`], on its own runtime, and a
/// client that retries with no cap on the wait but a short deadline.
fn busy_server() -> &'static (tokio::runtime::Runtime, Client, String) {
    static SERVER: OnceLock<(tokio::runtime::Runtime, Client, String)> = OnceLock::new();
    SERVER.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let app = axum::Router::new().fallback(|| async {
            let retry_after = RETRY_AFTER.lock().unwrap().clone();
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                [("retry-after", retry_after)],
                "busy",
            )
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        runtime.spawn(async move { axum::serve(listener, app).await });
        let client = Client::builder(&url)
            .retry(
                RetryPolicy::default()
                    .max_attempts(3)
                    .base_delay(Duration::from_millis(1))
                    .max_delay(Duration::MAX),
            )
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        (runtime, client, url)
    })
}

/// A `Retry-After` as a server may send one: seconds of any size, past any `Duration`, or not a number.
fn any_retry_after() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        (0u64..3).prop_map(|n| n.to_string()),
        Just(u64::MAX.to_string()),
        Just("99999999999999999999999999".to_owned()),
        Just("-1".to_owned()),
        Just("1e300".to_owned()),
        "[ -~]{0,24}",
    ]
}

proptest! {
    #![proptest_config(Config { cases: config().cases.min(64), ..config() })]

    /// Whatever `Retry-After` a busy server sends, a call, an HTTP action and a download end in their answer
    /// or an error before their deadline, never a panic.
    #[test]
    fn any_retry_after_is_waited_or_refused_never_a_panic(retry_after in any_retry_after()) {
        let (runtime, client, url) = busy_server();
        *RETRY_AFTER.lock().unwrap() = retry_after.clone();
        runtime.block_on(async {
            let call = client.query::<_, Value>("busy:case", json!({})).await;
            prop_assert!(
                matches!(call.as_ref().map_err(Error::kind), Err(ErrorKind::Server { status, .. }) if status.as_u16() == 503)
                    || matches!(call.as_ref().map_err(Error::kind), Err(ErrorKind::Timeout { .. })),
                "{retry_after:?}: {call:?}"
            );
            let action = client.http_request(convex::Method::GET, "/busy").await;
            prop_assert!(
                matches!(&action, Ok(answer) if answer.status().as_u16() == 503)
                    || matches!(&action, Err(err) if err.request().is_some()),
                "{retry_after:?}: {action:?}"
            );
            let download = client.download(&format!("{url}/api/storage/x")).await;
            prop_assert!(matches!(&download, Err(err) if err.request().is_some()), "{retry_after:?}: {download:?}");
            Ok(())
        })?;
    }
}
