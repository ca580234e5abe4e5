//! The Convex HTTP API on the wire: request bodies, headers, sending with retries, and reading answers.

use crate::call::FetchOptions;
use crate::client::Client;
use crate::error::{Error, FunctionName};
use crate::function::{ConvexFunction, FunctionKind};
use crate::value;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use std::time::{Duration, Instant};
use tracing::Instrument;

/// The `Convex-Client` header: `{client name}-{semver}`, as the backend expects.
const CONVEX_CLIENT: &str = concat!("rust-convex-fetch-", env!("CARGO_PKG_VERSION"));

/// HTTP status the official client also reads as "the function ran and failed".
const FUNCTION_FAILURE_STATUS: u16 = 560;

/// How much of a body an error message quotes.
const EXCERPT_CHARS: usize = 200;

/// One function call on the wire: which function, which endpoint, and the body already encoded.
pub(crate) struct Request {
    pub(crate) function: FunctionName,
    pub(crate) endpoint: &'static str,
    pub(crate) body: Vec<u8>,
}

impl Request {
    /// `{"path":…,"format":"convex_encoded_json","args":{…}}` (plus `"ts":…` for a query at a snapshot),
    /// written straight to bytes, for the endpoint of the function's kind or `/api/query_at_ts`.
    pub(crate) fn new<F: ConvexFunction>(
        function: FunctionName,
        args: &F,
        ts: Option<&str>,
    ) -> Result<Request, Error> {
        let mut body = Vec::with_capacity(128);
        body.extend_from_slice(b"{\"path\":");
        serde_json::to_writer(&mut body, &function.path)
            .map_err(|e| invalid_args(&function, e.to_string()))?;
        if let Some(ts) = ts {
            body.extend_from_slice(b",\"ts\":");
            body.extend_from_slice(ts.as_bytes());
        }
        body.extend_from_slice(ARGS_PREFIX.as_bytes());
        value::encode_args(args, &mut body).map_err(|e| invalid_args(&function, e.to_string()))?;
        body.push(b'}');
        let endpoint = if ts.is_some() {
            QUERY_AT_TS
        } else {
            function.kind.endpoint()
        };
        Ok(Request {
            function,
            endpoint,
            body,
        })
    }
}

/// What precedes the args in every body we build; verbose output finds the args after it.
const ARGS_PREFIX: &str = ",\"format\":\"convex_encoded_json\",\"args\":";

/// Runs a query at a timestamp from `/api/query_ts`.
pub(crate) const QUERY_AT_TS: &str = "/api/query_at_ts";

fn invalid_args(function: &FunctionName, message: String) -> Error {
    Error::InvalidArgs {
        function: function.clone(),
        message,
    }
}

/// Sends a call, retrying as the client's policy allows within the call's timeout, and decodes its answer.
pub(crate) async fn execute<O: DeserializeOwned>(
    client: &Client,
    request: Request,
    options: FetchOptions,
) -> Result<O, Error> {
    let Request {
        function,
        endpoint,
        body,
    } = request;
    let options = options.or(&client.inner.defaults);
    let timeout = options.timeout_or(client.inner.timeout);
    let span =
        tracing::debug_span!("convex_call", kind = %function.kind, function = %function.path);
    let started = Instant::now();
    let outcome = async {
        let authorization = options.authorization()?;
        if options.is_verbose() {
            verbose_start(&function, &body, authorization.is_some());
        }
        let verbose = options.is_verbose();
        let result = with_retries(client, &function, timeout, || async {
            let (status, bytes) =
                post(client, &function, endpoint, &body, authorization.as_ref()).await?;
            read_response::<O>(&function, status, &bytes, verbose).map_err(|e| (e, None))
        })
        .await;
        if verbose {
            verbose_end(&function, &result);
        }
        result.map(|(value, _)| value)
    }
    .instrument(span.clone())
    .await;
    let _enter = span.enter();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    match &outcome {
        Ok(_) => tracing::debug!(elapsed_ms, outcome = "success", "convex call finished"),
        Err(err) => {
            tracing::debug!(elapsed_ms, outcome = "error", error = %err, "convex call failed")
        }
    }
    outcome
}

/// A failed attempt: the error, and the wait the server asked for with `Retry-After`.
pub(crate) type Failure = (Error, Option<Duration>);

/// Runs `attempt` until it succeeds, the retry policy gives up, or the call's `timeout` has elapsed.
pub(crate) async fn with_retries<T, Fut>(
    client: &Client,
    function: &FunctionName,
    timeout: Duration,
    mut attempt: impl FnMut() -> Fut,
) -> Result<T, Error>
where
    Fut: std::future::Future<Output = Result<T, Failure>>,
{
    // A timeout too long to add to an instant (`Duration::MAX` for "no limit") waits as long as Tokio can.
    let deadline = Instant::now() + timeout.min(FOREVER);
    let attempts = async {
        let mut number = 1;
        loop {
            let (error, retry_after) = match attempt().await {
                Ok(success) => return Ok(success),
                Err(failure) => failure,
            };
            let retry = &client.inner.retry;
            let Some(delay) = retry.delay_after(function.kind, number, &error, retry_after) else {
                return Err(error);
            };
            // A `Retry-After` beyond the deadline (or beyond any instant) fails now rather than never.
            if Instant::now()
                .checked_add(delay)
                .is_none_or(|at| at >= deadline)
            {
                return Err(error);
            }
            tracing::debug!(attempt = number, delay_ms = delay.as_millis() as u64, error = %error, "retrying convex call");
            tokio::time::sleep(delay).await;
            number += 1;
        }
    };
    match tokio::time::timeout_at(deadline.into(), attempts).await {
        Ok(result) => result,
        Err(_) => Err(Error::Timeout {
            function: function.clone(),
            after: timeout,
        }),
    }
}

/// The longest a call waits: 30 years, Tokio's own far future.
const FOREVER: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);

/// One POST to the deployment: the answer's status and body (read up to the client's size limit).
pub(crate) async fn post(
    client: &Client,
    function: &FunctionName,
    endpoint: &str,
    body: &[u8],
    authorization: Option<&HeaderValue>,
) -> Result<(StatusCode, Vec<u8>), Failure> {
    let url = format!("{}{endpoint}", client.inner.url);
    let mut request = client
        .inner
        .http
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .header("Convex-Client", CONVEX_CLIENT)
        .body(body.to_vec());
    if let Some(authorization) = authorization {
        request = request.header(AUTHORIZATION, authorization.clone());
    }
    let mut response = request
        .send()
        .await
        .map_err(|e| (transport(function, e), None))?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| (transport(function, e), None))?
    {
        if bytes.len() + chunk.len() > client.inner.max_response_bytes {
            let error = Error::Decode {
                function: function.clone(),
                message: format!(
                    "the response is larger than the limit of {} bytes (raise it with `max_response_bytes`)",
                    client.inner.max_response_bytes
                ),
                excerpt: excerpt(&bytes),
            };
            return Err((error, None));
        }
        bytes.extend_from_slice(&chunk);
    }
    if status.is_success() || status.as_u16() == FUNCTION_FAILURE_STATUS {
        Ok((status, bytes))
    } else {
        Err((system_error(function, status, &bytes), retry_after))
    }
}

fn transport(function: &FunctionName, error: reqwest::Error) -> Error {
    // Only a failed connect proves the request never left; anything later may have reached the deployment.
    let sent = !error.is_connect();
    // The URL may carry credentials (`user:pass@`); the function named in the message says enough.
    let error = error.without_url();
    let message = error_chain(&error);
    Error::Transport {
        function: function.clone(),
        message,
        sent,
        source: Some(error),
    }
}

/// The error and its causes on one line: reqwest's own message alone is often just "error sending request".
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// The body of a function answer (HTTP 200 or 560).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<'a> {
    #[serde(borrow)]
    status: std::borrow::Cow<'a, str>,
    /// Present, even as `null`, in every success: one without it is not a Convex answer.
    #[serde(borrow, default, deserialize_with = "present")]
    value: Option<&'a RawValue>,
    error_message: Option<String>,
    /// Present, even as `null`, only for a `ConvexError` (`throw new ConvexError(null)` has data `null`).
    #[serde(borrow, default, deserialize_with = "present")]
    error_data: Option<&'a RawValue>,
    #[serde(default)]
    log_lines: Vec<String>,
}

/// `Some` for any value, `null` included; serde's own `Option` would read `null` as absent.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// The body of a system failure (any other status).
#[derive(Deserialize)]
struct SystemError {
    code: String,
    message: String,
}

/// Reads one HTTP answer into the function's result or the matching error; with `keep_raw` (verbose output),
/// also a copy of the value's JSON.
fn read_response<O: DeserializeOwned>(
    function: &FunctionName,
    status: StatusCode,
    body: &[u8],
    keep_raw: bool,
) -> Result<(O, Option<Box<RawValue>>), Error> {
    let decode_error = |message: String, bytes: &[u8]| Error::Decode {
        function: function.clone(),
        message,
        excerpt: excerpt(bytes),
    };
    if status != StatusCode::OK && status.as_u16() != FUNCTION_FAILURE_STATUS {
        return Err(system_error(function, status, body));
    }
    let envelope: Envelope<'_> = serde_json::from_slice(body)
        .map_err(|e| decode_error(format!("not a Convex function response ({e})"), body))?;
    emit_log_lines(function, &envelope.log_lines);
    match envelope.status.as_ref() {
        "success" => {
            // A function that returned nothing answers `"value": null`; the official client refuses a success
            // without `value` ("Unexpected type of undefined"), and so do we.
            let Some(raw) = envelope.value else {
                return Err(decode_error(
                    "a success answer without a `value`".to_owned(),
                    body,
                ));
            };
            let value = value::from_slice(raw.get().as_bytes())
                .map_err(|e| decode_error(e.to_string(), raw.get().as_bytes()))?;
            Ok((value, keep_raw.then(|| raw.to_owned())))
        }
        "error" => {
            let data = envelope
                .error_data
                .map(|raw| value::from_slice::<serde_json::Value>(raw.get().as_bytes()))
                .transpose()
                .map_err(|e| decode_error(format!("unreadable `errorData`: {e}"), body))?;
            Err(Error::Function {
                function: function.clone(),
                message: envelope.error_message.unwrap_or_default(),
                data,
                log_lines: envelope.log_lines,
            })
        }
        other => Err(decode_error(
            format!("unknown response status `{other}`"),
            body,
        )),
    }
}

/// A system failure: `{code, message}` when the body is Convex's, else an excerpt of whatever it is.
pub(crate) fn system_error(function: &FunctionName, status: StatusCode, body: &[u8]) -> Error {
    let (code, message) = match serde_json::from_slice::<SystemError>(body) {
        Ok(e) => (e.code, e.message),
        Err(_) if body.is_empty() => (String::new(), "(empty body)".to_owned()),
        Err(_) => (String::new(), excerpt(body)),
    };
    Error::Server {
        function: function.clone(),
        status,
        code,
        message,
    }
}

/// The start of a body, as text, for error messages.
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

/// Emits the function's own log lines as tracing events at their level, the way the official client prints
/// them (`[CONVEX Q(posts:list)] [LOG] …`).
fn emit_log_lines(function: &FunctionName, lines: &[String]) {
    let tag = match function.kind {
        FunctionKind::Query => 'Q',
        FunctionKind::Mutation => 'M',
        FunctionKind::Action => 'A',
    };
    for line in lines {
        let source = format_args!("[CONVEX {tag}({})]", function.path);
        if line.starts_with("[ERROR]") {
            tracing::error!(target: "convex_fetch::function_log", "{source} {line}");
        } else if line.starts_with("[WARN]") {
            tracing::warn!(target: "convex_fetch::function_log", "{source} {line}");
        } else if line.starts_with("[DEBUG]") {
            tracing::debug!(target: "convex_fetch::function_log", "{source} {line}");
        } else {
            tracing::info!(target: "convex_fetch::function_log", "{source} {line}");
        }
    }
}

fn verbose_start(function: &FunctionName, body: &[u8], has_auth: bool) {
    // The args are the tail of the body we built: `…"args":{…}}`.
    let text = String::from_utf8_lossy(body);
    let args = text
        .split_once(ARGS_PREFIX)
        .map(|(_, args)| &args[..args.len() - 1])
        .unwrap_or("{}");
    eprintln!(
        "[{}] {}: Starting {{ args: {}, hasAuth: {has_auth} }}",
        function.kind.fetch_name(),
        function.path,
        excerpt(args.as_bytes())
    );
}

fn verbose_end<O>(function: &FunctionName, result: &Result<(O, Option<Box<RawValue>>), Error>) {
    match result {
        Ok((_, raw)) => eprintln!(
            "[{}] {}: Success {}",
            function.kind.fetch_name(),
            function.path,
            excerpt(raw.as_deref().map_or("null", RawValue::get).as_bytes())
        ),
        Err(err) => eprintln!(
            "[{}] {}: Error {err}",
            function.kind.fetch_name(),
            function.path
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name() -> FunctionName {
        FunctionName {
            kind: FunctionKind::Query,
            path: "posts:list".into(),
        }
    }

    #[test]
    fn success_decodes_the_value() {
        let (v, _) = read_response::<Vec<u32>>(
            &name(),
            StatusCode::OK,
            br#"{"status":"success","value":[1,2]}"#,
            false,
        )
        .unwrap();
        assert_eq!(v, vec![1, 2]);
    }

    #[test]
    fn function_failure_on_200_and_560_keeps_message_and_data() {
        for status in [200, 560] {
            let body = br#"{"status":"error","errorMessage":"boom","errorData":{"code":"E1"},"logLines":["[LOG] hi"]}"#;
            let err =
                read_response::<()>(&name(), StatusCode::from_u16(status).unwrap(), body, false)
                    .unwrap_err();
            let Error::Function {
                message,
                data,
                log_lines,
                ..
            } = &err
            else {
                panic!("{err:?}")
            };
            assert_eq!(message, "boom");
            assert_eq!(data.as_ref().unwrap()["code"], "E1");
            assert_eq!(log_lines, &["[LOG] hi"]);
        }
    }

    #[test]
    fn system_failure_with_json_html_and_empty_bodies() {
        let err = read_response::<()>(
            &name(),
            StatusCode::BAD_REQUEST,
            br#"{"code":"BadFormat","message":"nope"}"#,
            false,
        )
        .unwrap_err();
        assert!(
            matches!(&err, Error::Server { code, message, .. } if code == "BadFormat" && message == "nope")
        );
        let err = read_response::<()>(
            &name(),
            StatusCode::BAD_GATEWAY,
            b"<html>bad gateway</html>",
            false,
        )
        .unwrap_err();
        assert!(
            matches!(&err, Error::Server { code, message, .. } if code.is_empty() && message.contains("<html>"))
        );
        let err =
            read_response::<()>(&name(), StatusCode::SERVICE_UNAVAILABLE, b"", false).unwrap_err();
        assert!(err.to_string().contains("503"), "{err}");
    }

    #[test]
    fn decode_failure_names_the_function_and_quotes_the_value() {
        let err = read_response::<u32>(
            &name(),
            StatusCode::OK,
            br#"{"status":"success","value":"text"}"#,
            false,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("posts:list") && text.contains("\"text\""),
            "{text}"
        );
        // A success without `value` is malformed, whatever the declared type.
        let err = read_response::<()>(&name(), StatusCode::OK, br#"{"status":"success"}"#, false)
            .unwrap_err();
        assert!(
            matches!(err, Error::Decode { .. }) && err.to_string().contains("without a `value`"),
            "{err}"
        );
        // A function that returns nothing answers `"value": null`: that is `()`, not a missing value.
        let (unit, _) = read_response::<()>(
            &name(),
            StatusCode::OK,
            br#"{"status":"success","value":null}"#,
            false,
        )
        .unwrap();
        assert_eq!(unit, ());
        let err = read_response::<u32>(&name(), StatusCode::OK, b"<html>", false).unwrap_err();
        assert!(matches!(err, Error::Decode { .. }));
    }
}
