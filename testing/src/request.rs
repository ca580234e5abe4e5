//! Reading a request as a deployment does: the endpoint, the `Convex-Client` and `Authorization` headers,
//! the JSON body, the function path, the format and the args; recording it once it names a function.

use super::auth::{Auth, Caller, authenticate};
use super::format::Format;
use super::lock;
use super::path::{FunctionPath, run_path};
use super::record::RecordedCall;
use super::shared::Shared;
use super::system_error::SystemError;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, HeaderValue, Method};
use convex_fetch::FunctionKind;
use convex_fetch::value::Value as ConvexValue;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The endpoints of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `/api/query`, `/api/mutation`, `/api/action`.
    Kind(FunctionKind),
    /// `/api/query_at_ts`.
    QueryAtTs,
    /// `/api/run/{module path}/{export}`: the path after `/api/run/`.
    Run(String),
    /// `/api/function`: any kind, named in the body.
    Function,
    /// `/api/query_ts`.
    QueryTs,
}

impl Endpoint {
    fn route(path: &str) -> Option<Endpoint> {
        Some(match path {
            "/api/query" => Endpoint::Kind(FunctionKind::Query),
            "/api/mutation" => Endpoint::Kind(FunctionKind::Mutation),
            "/api/action" => Endpoint::Kind(FunctionKind::Action),
            "/api/query_at_ts" => Endpoint::QueryAtTs,
            "/api/query_ts" => Endpoint::QueryTs,
            "/api/function" => Endpoint::Function,
            other => Endpoint::Run(other.strip_prefix("/api/run/")?.to_owned()),
        })
    }

    /// The kind of function the endpoint runs, if it runs one kind only.
    fn kind(&self) -> Option<FunctionKind> {
        match self {
            Endpoint::Kind(kind) => Some(*kind),
            Endpoint::QueryAtTs => Some(FunctionKind::Query),
            Endpoint::Run(_) | Endpoint::Function | Endpoint::QueryTs => None,
        }
    }
}

/// A request read and checked, ready to run.
pub(crate) enum Prepared {
    QueryTs,
    Call(CallRequest),
}

pub(crate) struct CallRequest {
    pub(crate) path: FunctionPath,
    pub(crate) endpoint_kind: Option<FunctionKind>,
    /// The args object with its Convex types, or the validation error that args of the wrong shape or
    /// encoding are.
    pub(crate) args: Result<ConvexValue, String>,
    pub(crate) format: Format,
    pub(crate) caller: Caller,
}

/// Reads a request as the deployment does, recording it if it names a function; the first problem found
/// (client version, auth, body, path, format, timestamp) refuses it.
pub(crate) fn prepare(
    shared: &Shared,
    method: &Method,
    url_path: &str,
    headers: &HeaderMap,
    body: Result<&[u8], &SystemError>,
) -> Result<Prepared, SystemError> {
    let endpoint = Endpoint::route(url_path).ok_or_else(|| {
        SystemError::new(404, "NotFound", format!("No route for POST {url_path}"))
    })?;
    if method != Method::POST {
        return Err(SystemError::new(
            405,
            "MethodNotAllowed",
            format!("{url_path} only accepts POST"),
        ));
    }
    let version = check_client_version(headers);
    if endpoint == Endpoint::QueryTs {
        version?;
        return Ok(Prepared::QueryTs);
    }
    let (auth, caller) = authenticate(
        headers.get(AUTHORIZATION).map(HeaderValue::as_bytes),
        &shared.admin_key,
        &shared.tokens,
    );
    let body = body.map_err(Clone::clone).and_then(parse_body);
    let path_text = match (&endpoint, &body) {
        (Endpoint::Run(path), _) => Ok(run_path(path)),
        (_, Ok(body)) => match body.get("path") {
            Some(Value::String(path)) => Ok(path.clone()),
            Some(_) => Err(SystemError::bad_body("`path` must be a string")),
            None => Err(SystemError::bad_body("missing field `path`")),
        },
        (_, Err(error)) => Err(error.clone()),
    };
    let path = path_text.and_then(|text| {
        FunctionPath::parse(&text).map_err(|_| {
            SystemError::new(
                400,
                "BadConvexFunctionIdentifier",
                format!("{text} is not a valid path to a Convex function."),
            )
        })
    });

    if let (Ok(path), Ok(body)) = (&path, &body) {
        let call = recorded_call(&endpoint, url_path, path, body, auth, |canonical| {
            shared.functions.get(canonical).map(|f| f.kind)
        });
        lock(&shared.recorder).record(call);
    }

    version?;
    let caller = caller?;
    let body = body?;
    let path = path?;
    let format = match body.get("format") {
        None | Some(Value::Null) => Format::Clean,
        Some(Value::String(name)) => Format::parse(Some(name)).ok_or_else(|| {
            SystemError::new(
                400,
                "BadFormat",
                format!(
                    "Invalid format `{name}`: expected `convex_encoded_json`, `convex_json`, `json`, \
                     `convex_clean_json` or `export_json`"
                ),
            )
        })?,
        Some(_) => return Err(SystemError::bad_body("`format` must be a string")),
    };
    if endpoint == Endpoint::QueryAtTs {
        let ts = parse_ts(body.get("ts")).ok_or_else(|| {
            SystemError::bad_body(
                "`ts` must be the timestamp from /api/query_ts (a string or a number)",
            )
        })?;
        if shared.expired(ts) {
            // What the backend answers past its transaction window.
            return Err(SystemError::new(
                503,
                "InternalServerError",
                "Your request couldn't be completed. Try again later.",
            ));
        }
    }
    Ok(Prepared::Call(CallRequest {
        path,
        endpoint_kind: endpoint.kind(),
        args: args_object(body.get("args")).and_then(decode_args),
        format,
        caller,
    }))
}

/// The record of a request naming `path`: the endpoint's kind, or for `/api/run/…` and `/api/function` the
/// kind `kind_of` knows for the canonical path (`Query` when it knows none); the args as received.
fn recorded_call(
    endpoint: &Endpoint,
    url_path: &str,
    path: &FunctionPath,
    body: &Map<String, Value>,
    auth: Auth,
    kind_of: impl FnOnce(&str) -> Option<FunctionKind>,
) -> RecordedCall {
    let canonical = path.canonical();
    let kind = endpoint
        .kind()
        .or_else(|| kind_of(&canonical))
        .unwrap_or(FunctionKind::Query);
    let args = args_object(body.get("args"))
        .unwrap_or_else(|_| body.get("args").cloned().unwrap_or(Value::Null));
    let args = recorded(args);
    RecordedCall {
        kind,
        path: canonical,
        args,
        auth,
        endpoint: url_path.to_owned(),
    }
}

/// What a request is recorded as when another server answers it (the JS deployment's Node server): the same
/// record [`prepare`] keeps, for a POST to a function endpoint with a readable body and a valid path; `None`
/// for anything else. The kind of a function called through `/api/run/…` or `/api/function` is not known
/// here and is recorded as `Query`.
pub(crate) fn record_forwarded(
    method: &Method,
    url_path: &str,
    headers: &HeaderMap,
    body: &[u8],
    admin_key: &str,
    tokens: &HashMap<String, Value>,
) -> Option<RecordedCall> {
    let endpoint = Endpoint::route(url_path)?;
    if method != Method::POST || endpoint == Endpoint::QueryTs {
        return None;
    }
    let (auth, _) = authenticate(
        headers.get(AUTHORIZATION).map(HeaderValue::as_bytes),
        admin_key,
        tokens,
    );
    let body = parse_body(body).ok()?;
    let text = match &endpoint {
        Endpoint::Run(path) => run_path(path),
        _ => body.get("path")?.as_str()?.to_owned(),
    };
    let path = FunctionPath::parse(&text).ok()?;
    Some(recorded_call(
        &endpoint,
        url_path,
        &path,
        &body,
        auth,
        |_| None,
    ))
}

/// A timestamp as `/api/query_ts` gives it (base64 of a u64, little-endian), or as a plain number.
fn parse_ts(ts: Option<&Value>) -> Option<u64> {
    use base64::Engine as _;
    match ts? {
        Value::Number(n) => n.as_u64(),
        Value::String(text) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text)
                .ok()?;
            Some(u64::from_le_bytes(bytes.try_into().ok()?))
        }
        _ => None,
    }
}

/// The JSON body, which must be an object.
fn parse_body(bytes: &[u8]) -> Result<Map<String, Value>, SystemError> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(body)) => Ok(body),
        Ok(_) => Err(SystemError::bad_body("The JSON body must be an object")),
        Err(e) => Err(SystemError::bad_body(format!(
            "Failed to deserialize the JSON body: {e}"
        ))),
    }
}

/// The args object: absent is `{}`, a one-element array holding an object is that object (the legacy form).
fn args_object(args: Option<&Value>) -> Result<Value, String> {
    match args {
        None => Ok(Value::Object(Map::new())),
        Some(args @ Value::Object(_)) => Ok(args.clone()),
        Some(Value::Array(items)) if items.len() == 1 && items[0].is_object() => {
            Ok(items[0].clone())
        }
        Some(other) => Err(format!(
            "ArgumentValidationError: The arguments must be an object (or an array holding one object), \
             not {other}."
        )),
    }
}

/// The args object read from its Convex encoding, without loss: the handler decodes its own type from it.
fn decode_args(args: Value) -> Result<ConvexValue, String> {
    ConvexValue::from_json(args.clone())
        .map_err(|e| format!("ArgumentValidationError: {e}\n\nObject: {args}"))
}

/// What the record keeps of args: their Convex value, or, where they are not valid Convex-encoded JSON, the
/// plain JSON they were (a `$` object as an ordinary object), with the valid parts still decoded, so that a
/// test can see what was sent.
fn recorded(args: Value) -> ConvexValue {
    let plain = match ConvexValue::from_json(args.clone()) {
        Ok(value) => return value,
        Err(_) => args,
    };
    match plain {
        Value::Null => ConvexValue::Null,
        Value::Bool(b) => ConvexValue::Boolean(b),
        Value::Number(n) => ConvexValue::Float64(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => ConvexValue::String(s),
        Value::Array(items) => ConvexValue::Array(items.into_iter().map(recorded).collect()),
        Value::Object(map) => {
            ConvexValue::Object(map.into_iter().map(|(k, v)| (k, recorded(v))).collect())
        }
    }
}

/// `Convex-Client: {client name}-{semver}`; a missing header is accepted.
pub(crate) fn check_client_version(headers: &HeaderMap) -> Result<(), SystemError> {
    let Some(value) = headers.get("convex-client") else {
        return Ok(());
    };
    let valid = value.to_str().is_ok_and(|value| {
        value
            .match_indices('-')
            .any(|(i, _)| i > 0 && value.get(i + 1..).is_some_and(is_semver))
    });
    if valid {
        Ok(())
    } else {
        Err(SystemError::new(
            400,
            "InvalidVersion",
            format!(
                "Failed to parse the Convex-Client header {value:?}: Expected format is {{client_name}}-{{semver}}"
            ),
        ))
    }
}

/// `MAJOR.MINOR.PATCH`, with an optional `-prerelease` and `+build`.
fn is_semver(text: &str) -> bool {
    let (rest, build) = match text.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (text, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };
    let identifiers = |s: &str| {
        s.split('.').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
    };
    let numbers: Vec<&str> = core.split('.').collect();
    numbers.len() == 3
        && numbers
            .iter()
            .all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        && pre.is_none_or(identifiers)
        && build.is_none_or(identifiers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_versions() {
        for good in [
            "npm-1.48.0",
            "rust-convex-fetch-0.1.0",
            "my-client-1.0.0-beta.1+abc",
            "x-0.0.1",
        ] {
            let mut headers = HeaderMap::new();
            headers.insert("convex-client", HeaderValue::from_static(good));
            assert!(check_client_version(&headers).is_ok(), "{good}");
        }
        for bad in ["npm", "1.2.3", "npm-1.2", "npm-", "-1.2.3", "npm-a.b.c"] {
            let mut headers = HeaderMap::new();
            headers.insert("convex-client", HeaderValue::from_static(bad));
            let err = check_client_version(&headers).unwrap_err();
            assert_eq!((err.status, err.code), (400, "InvalidVersion"), "{bad}");
        }
        assert!(check_client_version(&HeaderMap::new()).is_ok());
    }

    #[test]
    fn args_shapes() {
        let obj = serde_json::json!({"a": 1});
        assert_eq!(args_object(None).unwrap(), serde_json::json!({}));
        assert_eq!(args_object(Some(&obj)).unwrap(), obj);
        assert_eq!(
            args_object(Some(&serde_json::json!([{"a": 1}]))).unwrap(),
            obj
        );
        assert!(args_object(Some(&serde_json::json!([1]))).is_err());
        assert!(args_object(Some(&serde_json::json!("x"))).is_err());
    }
}
