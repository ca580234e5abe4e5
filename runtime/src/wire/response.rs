//! Reading an answer: what its status says, a function's result or failure, a timestamp, a system failure.

use super::exchange::Answer;
use super::request::Request;
use crate::error::{Error, ErrorKind, FailureDetails, FunctionName, SNAPSHOT_LIFETIME};
use crate::function::FunctionKind;
use crate::value;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use std::sync::Arc;
use std::time::Duration;

/// HTTP status the official client also reads as "the function ran and failed".
const FUNCTION_FAILURE_STATUS: u16 = 560;

/// How much of a body an error message quotes.
const EXCERPT_CHARS: usize = 200;

/// A snapshot at least this old that fails with 503 `InternalServerError` has expired: the backend's window is
/// about [`SNAPSHOT_LIFETIME`], and the timestamp was taken on the server before we saw it.
const SNAPSHOT_SUSPECT_AGE: Duration = SNAPSHOT_LIFETIME.saturating_sub(Duration::from_secs(2));

/// The one place an answer's status is judged: any 2xx, or 560, carries a body to read (as the official client
/// reads it); anything else is a system failure, or an expired snapshot.
pub(super) fn classify(request: &Request, answer: &Answer) -> Result<(), Error> {
    let status = answer.status;
    if status.is_success() || status.as_u16() == FUNCTION_FAILURE_STATUS {
        return Ok(());
    }
    let error = system_error(&request.function, status, &answer.body);
    match (error.kind(), request.snapshot_taken) {
        (ErrorKind::Server { status, code, .. }, Some(taken))
            if status.as_u16() == 503
                && code == "InternalServerError"
                && taken.elapsed() >= SNAPSHOT_SUSPECT_AGE =>
        {
            Err(Error::call(
                &request.function,
                ErrorKind::SnapshotExpired {
                    age: taken.elapsed(),
                },
            ))
        }
        _ => Err(error),
    }
}

/// The body of a function answer.
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

/// A success answer, its value decoded straight into the output type in the same pass as the envelope, rather
/// than found first and parsed a second time. It reads only `{"status":"success","value":…}` (with any
/// `logLines`); every other answer fails to deserialize, and is left to [`Envelope`].
struct Success<O> {
    value: O,
    log_lines: Vec<String>,
}

impl<'de, O: DeserializeOwned> Deserialize<'de> for Success<O> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(SuccessVisitor(std::marker::PhantomData))
    }
}

struct SuccessVisitor<O>(std::marker::PhantomData<O>);

/// The value of the answer, through the Convex decoding.
struct ValueSeed<O>(std::marker::PhantomData<O>);

impl<'de, O: DeserializeOwned> serde::de::DeserializeSeed<'de> for ValueSeed<O> {
    type Value = O;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<O, D::Error> {
        value::deserialize(d)
    }
}

impl<'de, O: DeserializeOwned> serde::de::Visitor<'de> for SuccessVisitor<O> {
    type Value = Success<O>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a Convex success answer")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Success<O>, A::Error> {
        use serde::de::Error as _;
        let (mut success, mut value, mut log_lines) = (false, None, None);
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "status" if !success => {
                    if map.next_value::<&'de str>()? != "success" {
                        return Err(A::Error::custom("not a success"));
                    }
                    success = true;
                }
                "value" if value.is_none() => {
                    value = Some(map.next_value_seed(ValueSeed::<O>(std::marker::PhantomData))?)
                }
                "logLines" if log_lines.is_none() => log_lines = Some(map.next_value()?),
                // A failure's fields, or a field twice: not a plain success.
                "status" | "value" | "logLines" | "errorMessage" | "errorData" => {
                    return Err(A::Error::custom("not a plain success"));
                }
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        match (success, value) {
            (true, Some(value)) => Ok(Success {
                value,
                log_lines: log_lines.unwrap_or_default(),
            }),
            _ => Err(A::Error::custom("not a success")),
        }
    }
}

/// `Some` for any value, `null` included; serde's own `Option` would read `null` as absent.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

fn decode_error(function: &FunctionName, message: String, bytes: &[u8]) -> Error {
    Error::call(
        function,
        ErrorKind::Decode {
            message,
            excerpt: excerpt(bytes),
        },
    )
}

/// Reads a function answer into its result or the function's failure; with `keep_raw` (verbose output),
/// also a copy of the value's JSON.
pub(super) fn function_result<O: DeserializeOwned>(
    function: &FunctionName,
    body: &[u8],
    keep_raw: bool,
) -> Result<(O, Option<Box<RawValue>>), Error> {
    // A plain success is read in one pass; anything else (a failure, an odd answer, a value that does not
    // decode, verbose output's copy of the value) is read again below, where each case gets its exact error.
    if !keep_raw && let Ok(success) = serde_json::from_slice::<Success<O>>(body) {
        emit_log_lines(function, &success.log_lines);
        return Ok((success.value, None));
    }
    let envelope: Envelope<'_> = serde_json::from_slice(body).map_err(|e| {
        decode_error(
            function,
            format!("not a Convex function response ({e})"),
            body,
        )
    })?;
    emit_log_lines(function, &envelope.log_lines);
    match envelope.status.as_ref() {
        "success" => {
            // A function that returned nothing answers `"value": null`; the official client refuses a success
            // without `value` ("Unexpected type of undefined"), and so do we.
            let Some(raw) = envelope.value else {
                return Err(decode_error(
                    function,
                    "a success answer without a `value`".to_owned(),
                    body,
                ));
            };
            let bytes = raw.get().as_bytes();
            let value = value::from_slice(bytes)
                .map_err(|e| decode_error(function, e.to_string(), bytes))?;
            Ok((value, keep_raw.then(|| raw.to_owned())))
        }
        "error" => {
            let data = envelope
                .error_data
                .map(|raw| value::from_slice::<value::Value>(raw.get().as_bytes()))
                .transpose()
                .map_err(|e| {
                    decode_error(function, format!("unreadable `errorData`: {e}"), body)
                })?;
            let raw = envelope.error_message.unwrap_or_default();
            Err(function_failure(function, raw, data, envelope.log_lines))
        }
        other => Err(decode_error(
            function,
            format!("unknown response status `{other}`"),
            body,
        )),
    }
}

/// A function's failure from its `errorMessage`, `errorData` (already decoded) and log lines: the one shape
/// of `ErrorKind::Function`, for HTTP answers and the sync protocol alike.
pub(crate) fn function_failure(
    function: &FunctionName,
    raw: String,
    data: Option<value::Value>,
    log_lines: Vec<String>,
) -> Error {
    let parsed = ErrorText::parse(&raw);
    let details = FailureDetails {
        name: parsed.name.map(str::to_owned),
        request_id: parsed.request_id.map(str::to_owned),
        stack: parsed.stack.map(str::to_owned),
        raw_message: raw.clone(),
    };
    Error::call(
        function,
        ErrorKind::Function {
            message: parsed.message.to_owned(),
            data,
            log_lines,
            details,
        },
    )
}

/// The answer of `/api/query_ts`: `{"ts": …}`, kept as the JSON text it is, to be sent back verbatim.
pub(super) fn timestamp(function: &FunctionName, body: &[u8]) -> Result<Arc<str>, Error> {
    #[derive(Deserialize)]
    struct QueryTs<'a> {
        #[serde(borrow)]
        ts: &'a RawValue,
    }
    let parsed: QueryTs<'_> = serde_json::from_slice(body)
        .map_err(|e| decode_error(function, format!("not a timestamp answer ({e})"), body))?;
    Ok(Arc::from(parsed.ts.get()))
}

/// The parts of a function's `errorMessage`, as the backend writes it:
/// `[Request ID: <id>] Server Error`, then (unless the deployment redacts it) a newline,
/// `Uncaught <Name>: <message>`, and a `    at …` line per stack frame.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ErrorText<'a> {
    pub(crate) request_id: Option<&'a str>,
    pub(crate) name: Option<&'a str>,
    pub(crate) message: &'a str,
    pub(crate) stack: Option<&'a str>,
}

impl<'a> ErrorText<'a> {
    /// Splits `text`; what does not follow the backend's shape is the message, whole.
    pub(crate) fn parse(text: &'a str) -> ErrorText<'a> {
        const PREFIX: &str = "[Request ID: ";
        const SERVER_ERROR: &str = "Server Error";
        let mut request_id = None;
        let mut rest = text;
        if let Some((id, after)) = text.strip_prefix(PREFIX).and_then(|t| t.split_once("] "))
            && let Some(after) = after.strip_prefix(SERVER_ERROR)
        {
            request_id = Some(id);
            rest = after.strip_prefix('\n').unwrap_or(after);
        }
        let rest = rest.trim_end_matches('\n');
        if rest.is_empty() {
            // Redacted, as production deployments send a non-`ConvexError` throw.
            return ErrorText {
                request_id,
                name: None,
                message: if request_id.is_some() {
                    SERVER_ERROR
                } else {
                    ""
                },
                stack: None,
            };
        }
        let (head, stack) = match rest.find("\n    at ") {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        let head = head.strip_prefix("Uncaught ").unwrap_or(head);
        let (name, message) = match head.split_once(": ") {
            Some((name, message)) if is_error_name(name) => (Some(name), message),
            _ => (None, head),
        };
        ErrorText {
            request_id,
            name,
            message,
            stack,
        }
    }
}

/// `Error`, `TypeError`, `ConvexError`, `ArgumentValidationError`: one word, capitalised.
fn is_error_name(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_uppercase())
        && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The body of a system failure.
#[derive(Deserialize)]
struct SystemError {
    code: String,
    message: String,
}

/// A system failure: `{code, message}` when the body is Convex's, else an excerpt of whatever it is.
fn system_error(function: &FunctionName, status: reqwest::StatusCode, body: &[u8]) -> Error {
    let (code, message) = match serde_json::from_slice::<SystemError>(body) {
        Ok(e) => (e.code, e.message),
        Err(_) if body.is_empty() => (String::new(), "(empty body)".to_owned()),
        Err(_) => (String::new(), excerpt(body)),
    };
    Error::call(
        function,
        ErrorKind::Server {
            status,
            code,
            message,
        },
    )
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

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    fn name() -> FunctionName {
        FunctionName {
            kind: FunctionKind::Query,
            path: "posts:list".into(),
        }
    }

    fn read<O: DeserializeOwned>(status: u16, body: &[u8]) -> Result<O, Error> {
        let request = Request::query_ts();
        let request = Request {
            function: name(),
            ..request
        };
        let answer = Answer {
            status: StatusCode::from_u16(status).unwrap(),
            body: bytes::Bytes::copy_from_slice(body),
            retry_after: None,
        };
        classify(&request, &answer)?;
        function_result(&request.function, &answer.body, false).map(|(value, _)| value)
    }

    #[test]
    fn success_decodes_the_value_on_any_2xx() {
        for status in [200, 201, 203] {
            let v: Vec<u32> = read(status, br#"{"status":"success","value":[1,2]}"#).unwrap();
            assert_eq!(v, vec![1, 2]);
        }
    }

    #[test]
    fn function_failure_on_200_and_560_keeps_message_and_data() {
        for status in [200, 560] {
            let body = br#"{"status":"error","errorMessage":"boom","errorData":{"code":"E1","n":{"$integer":"KgAAAAAAAAA="},"b":{"$bytes":"AQI="}},"logLines":["[LOG] hi"]}"#;
            let err = read::<()>(status, body).unwrap_err();
            let ErrorKind::Function {
                message,
                data,
                log_lines,
                ..
            } = err.kind()
            else {
                panic!("{err:?}")
            };
            assert_eq!(message, "boom");
            // The data keeps its Convex types, and the typed accessor reads it as a result is read.
            assert_eq!(
                data.as_ref().unwrap(),
                &crate::value!({ code: "E1", n: 42i64, b: crate::value::Bytes(vec![1, 2]) })
            );
            #[derive(serde::Deserialize)]
            struct Data {
                n: i64,
                b: Vec<u8>,
            }
            let typed = err.data::<Data>().unwrap().unwrap();
            assert_eq!((typed.n, typed.b), (42, vec![1, 2]));
            assert_eq!(log_lines, &["[LOG] hi"]);
        }
    }

    #[test]
    fn error_texts_in_the_backends_shapes() {
        let dev = "[Request ID: 3f2a9c0d1e4b5a67] Server Error\nUncaught Error: boom\n    at handler (../convex/foo.ts:5:9)\n";
        assert_eq!(
            ErrorText::parse(dev),
            ErrorText {
                request_id: Some("3f2a9c0d1e4b5a67"),
                name: Some("Error"),
                message: "boom",
                stack: Some("    at handler (../convex/foo.ts:5:9)"),
            }
        );
        let production = ErrorText::parse("[Request ID: 3f2a9c0d1e4b5a67] Server Error");
        assert_eq!(production.message, "Server Error");
        assert_eq!(production.request_id, Some("3f2a9c0d1e4b5a67"));
        assert_eq!(production.name, None);
        let convex = ErrorText::parse(
            "[Request ID: ab] Server Error\nUncaught ConvexError: {\"code\":\"NOT_FOUND\"}\n    at a (x.ts:1:1)\n    at b (y.ts:2:2)\n",
        );
        assert_eq!(convex.name, Some("ConvexError"));
        assert_eq!(convex.message, "{\"code\":\"NOT_FOUND\"}");
        assert_eq!(
            convex.stack,
            Some("    at a (x.ts:1:1)\n    at b (y.ts:2:2)")
        );
        let args = ErrorText::parse(
            "[Request ID: ab] Server Error\nArgumentValidationError: Object is missing the required field `id`.\n\nObject: {}\n",
        );
        assert_eq!(args.name, Some("ArgumentValidationError"));
        assert_eq!(
            args.message,
            "Object is missing the required field `id`.\n\nObject: {}"
        );
        let missing = ErrorText::parse(
            "[Request ID: ab] Server Error\nCould not find public function for 'posts:lst'.\n",
        );
        assert_eq!(
            (missing.name, missing.message),
            (None, "Could not find public function for 'posts:lst'.")
        );
        // Not the backend's shape: all of it is the message.
        for text in [
            "boom",
            "[Request ID: x",
            "Uncaught error: lower case name",
            "",
        ] {
            let parsed = ErrorText::parse(text);
            assert_eq!(parsed.request_id, None, "{text}");
            assert!(text.ends_with(parsed.message), "{text}");
        }
    }

    #[test]
    fn system_failure_with_json_html_and_empty_bodies() {
        let err = read::<()>(400, br#"{"code":"BadFormat","message":"nope"}"#).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Server { code, message, .. } if code == "BadFormat" && message == "nope")
        );
        let err = read::<()>(502, b"<html>bad gateway</html>").unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Server { code, message, .. } if code.is_empty() && message.contains("<html>"))
        );
        let err = read::<()>(503, b"").unwrap_err();
        assert!(err.to_string().contains("503"), "{err}");
    }

    #[test]
    fn decode_failure_names_the_function_and_quotes_the_value() {
        let err = read::<u32>(200, br#"{"status":"success","value":"text"}"#).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("posts:list") && text.contains("\"text\""),
            "{text}"
        );
        // A success without `value` is malformed, whatever the declared type.
        let err = read::<()>(200, br#"{"status":"success"}"#).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Decode { .. })
                && err.to_string().contains("without a `value`"),
            "{err}"
        );
        // A function that returns nothing answers `"value": null`: that is `()`, not a missing value.
        read::<()>(200, br#"{"status":"success","value":null}"#).unwrap();
        let err = read::<u32>(200, b"<html>").unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Decode { .. }));
    }
}
