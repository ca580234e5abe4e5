//! The one error type of every call, with kinds a handler can match on.

use crate::function::FunctionKind;
use http::StatusCode;
use serde::de::DeserializeOwned;
use std::fmt;
use std::time::Duration;

/// Which function a failed call was for: printed in every error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionName {
    /// Query, mutation or action.
    pub kind: FunctionKind,
    /// The function path, `"posts:list"`.
    pub path: String,
}

impl fmt::Display for FunctionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}`", self.kind, self.path)
    }
}

/// What a function failure's text says beyond its message (see [`ErrorKind::Function`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FailureDetails {
    /// The error's name when the text gives one: `Error`, `TypeError`, `ConvexError`,
    /// `ArgumentValidationError`.
    pub name: Option<String>,
    /// The id of the request in the deployment's logs, when the text gives one.
    pub request_id: Option<String>,
    /// The stack trace, one `    at …` line per frame, when the deployment sends it.
    pub stack: Option<String>,
    /// Convex's `errorMessage`, whole.
    pub raw_message: String,
}

/// The error of a Convex call: what failed ([`kind`](Self::kind)) and which call it was
/// ([`function`](Self::function) or [`request`](Self::request)).
///
/// One pointer wide: everything it says is behind one allocation, made only when a call fails, so a
/// `Result<T, Error>` costs a successful call no more than its `T`.
///
/// Match on the [`ErrorKind`] to decide what to answer; [`Error::status_code`] suggests an HTTP status for a
/// handler that just wants to pass the failure on:
///
/// ```
/// use convex_fetch::{Error, ErrorKind};
///
/// fn describe(err: &Error) -> String {
///     match err.kind() {
///         ErrorKind::Function { message, details, .. } => match &details.request_id {
///             Some(id) => format!("the function threw: {message} (request {id})"),
///             None => format!("the function threw: {message}"),
///         },
///         ErrorKind::Server { status, code, .. } => format!("refused with {status} {code}"),
///         ErrorKind::Timeout { .. } => "Convex took too long".to_owned(),
///         _ => err.to_string(),
///     }
/// }
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    /// What was called; `None` for a configuration error, which comes before any call.
    call: Option<Called>,
}

/// What a failed call was: a function, or a plain HTTP request of the deployment.
enum Called {
    Function(FunctionName),
    Http(HttpCall),
}

impl fmt::Display for Called {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Called::Function(function) => function.fmt(f),
            Called::Http(request) => request.fmt(f),
        }
    }
}

/// What failed in an [`Error`]: read it with [`Error::kind`]. The call it failed in is
/// [`Error::function`] (a function call, a live query) or [`Error::request`] (an HTTP action, a file upload
/// or download); a kind means the same whichever it was.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The function ran and threw. `data` holds what a `ConvexError(data)` carried (read it with
    /// [`Error::data`]); a plain `Error` has none. Argument validation failures and calls to a function that
    /// does not exist also land here, as Convex reports them this way.
    ///
    /// The deployment's `errorMessage` (`[Request ID: 3f2a…] Server Error\nUncaught Error: boom\n    at …`) is
    /// taken apart: `message` is `boom`, and [`details`](FailureDetails) hold the name `Error`, the request id
    /// `3f2a…`, the `at` lines and the whole text. Production deployments redact the message of a throw that
    /// is not a `ConvexError`: `message` is then `Server Error`, and only the request id and the data remain.
    #[non_exhaustive]
    Function {
        /// The error's own message: `boom` of `Uncaught Error: boom`.
        message: String,
        /// The `ConvexError` data, as Convex sent it: an int64, bytes, NaN or -0 in it keeps its type.
        data: Option<crate::value::Value>,
        /// The function's log lines (`"[LOG] …"`).
        log_lines: Vec<String>,
        /// The rest of what the error's text says.
        details: FailureDetails,
    },

    /// The deployment refused a function call before or around the function (any non-2xx other than 560):
    /// a bad path, bad auth, overload. `code` and `message` come from the `{code, message}` body when there is
    /// one; a body that is not JSON (a proxy's HTML page) is kept as a short excerpt in `message`.
    #[non_exhaustive]
    Server {
        /// The HTTP status of the answer.
        status: StatusCode,
        /// Convex's short error code (`BadConvexFunctionIdentifier`, `InvalidAuthHeader`); empty if none.
        code: String,
        /// Convex's message, or an excerpt of a body that was not Convex JSON.
        message: String,
    },

    /// The answer of a plain HTTP request had a status that is not a success: an upload or download refused,
    /// or an HTTP action's answer turned into an error by
    /// [`HttpResponse::error_for_status`](crate::HttpResponse::error_for_status).
    #[non_exhaustive]
    Status {
        /// The HTTP status of the answer.
        status: StatusCode,
        /// The start of the answer's body.
        body: String,
    },

    /// The request did not complete: connection refused or reset, TLS, DNS, or a body cut short.
    /// `sent` says whether the request may have reached the deployment (a mutation may then have run, an
    /// upload may have been stored).
    #[non_exhaustive]
    Transport {
        /// What failed, from the HTTP stack.
        message: String,
        /// `false` only when the request provably never left this process (connect failed).
        sent: bool,
        /// The underlying error of the HTTP stack (also [`std::error::Error::source`]).
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// No answer within the call's timeout (for a download, no whole body). The function may still have run.
    #[non_exhaustive]
    Timeout {
        /// The timeout that elapsed.
        after: Duration,
        /// Whether the request may have reached the deployment: `false` when the whole time was spent
        /// waiting for a slot of the client's in-flight limit, or before anything was sent, so the function
        /// did not run.
        sent: bool,
    },

    /// The deployment answered, but the answer was not what the call declared: not a Convex response, a
    /// value that does not fit the declared return type, an HTTP action's body that is not JSON of the
    /// expected type or not UTF-8 text, an upload answer without a `storageId`.
    #[non_exhaustive]
    Decode {
        /// What did not match (serde's message).
        message: String,
        /// The start of what was received.
        excerpt: String,
    },

    /// A body of a plain HTTP request is larger than the client allows: a file over
    /// [`max_file_bytes`](crate::ClientBuilder::max_file_bytes), or an HTTP action's answer over
    /// [`max_response_bytes`](crate::ClientBuilder::max_response_bytes). (A function's answer over the
    /// limit is [`Decode`](Self::Decode).)
    #[non_exhaustive]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
        /// Whether part of the body was sent before the limit was reached (an upload whose size was not
        /// known beforehand); the upload is then cut off, and the deployment refuses it.
        sent: bool,
    },

    /// An upload or download URL of another origin than the deployment's: refused, nothing was sent to it.
    #[non_exhaustive]
    ForeignOrigin {
        /// The URL's origin (`scheme://host:port`); its path and query, which may hold a token, are not kept.
        origin: String,
        /// The deployment's origin.
        expected: String,
    },

    /// A query at a [`Snapshot`](crate::Snapshot) older than the deployment keeps them (about
    /// [`SNAPSHOT_LIFETIME`]): take a new snapshot. Not retried.
    #[non_exhaustive]
    SnapshotExpired {
        /// How long before the failure the snapshot was taken.
        age: Duration,
    },

    /// A function's args cannot be sent: not an object, a field name starting with `$`, an integer beyond
    /// what Convex represents. Nothing was sent.
    #[non_exhaustive]
    InvalidArgs {
        /// What is wrong with the args.
        message: String,
    },

    /// A plain HTTP request cannot be sent: a header or path that HTTP cannot carry, a body that cannot be
    /// encoded, a URL that is not one. Nothing was sent.
    #[non_exhaustive]
    Invalid {
        /// What is wrong.
        message: String,
    },

    /// A live query, or a call sent over the WebSocket, failed for a reason of the connection rather than of
    /// the function: the deployment refused the credential, or the connection was lost under an action.
    /// `problem` says which; match on it.
    #[non_exhaustive]
    Live {
        /// What failed.
        problem: LiveProblem,
    },

    /// The client is not set up: no `CONVEX_URL`, an invalid deployment URL, a credential that cannot be a
    /// header. Nothing was sent.
    #[non_exhaustive]
    Config {
        /// What to fix.
        message: String,
    },
}

impl Error {
    /// A failure of a call of `function`.
    pub(crate) fn call(function: &FunctionName, kind: ErrorKind) -> Error {
        Error::new(kind, Some(Called::Function(function.clone())))
    }

    /// A failure of a plain HTTP request (an HTTP action, a file upload or download).
    pub(crate) fn http(request: &HttpCall, kind: ErrorKind) -> Error {
        Error::new(kind, Some(Called::Http(request.clone())))
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        let message = message.into();
        Error::new(ErrorKind::Config { message }, None)
    }

    fn new(kind: ErrorKind, call: Option<Called>) -> Error {
        Error {
            inner: Box::new(Inner { kind, call }),
        }
    }

    /// What failed.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// What failed, taken: its fields without a copy (read [`function`](Self::function) or
    /// [`request`](Self::request) first if the call matters).
    pub fn into_kind(self) -> ErrorKind {
        self.inner.kind
    }

    /// The function the call was for; `None` for a plain HTTP request ([`request`](Self::request)) and a
    /// configuration error.
    pub fn function(&self) -> Option<&FunctionName> {
        match &self.inner.call {
            Some(Called::Function(function)) => Some(function),
            _ => None,
        }
    }

    /// The plain HTTP request that failed (an HTTP action, a file upload or download); `None` for a function
    /// call and a configuration error.
    ///
    /// ```
    /// use convex_fetch::{Error, ErrorKind};
    ///
    /// fn may_have_been_stored(err: &Error) -> bool {
    ///     match err.kind() {
    ///         ErrorKind::ForeignOrigin { .. } => false,
    ///         _ => err.request().is_some() && !err.provably_not_run(),
    ///     }
    /// }
    /// ```
    pub fn request(&self) -> Option<&HttpCall> {
        match &self.inner.call {
            Some(Called::Http(request)) => Some(request),
            _ => None,
        }
    }

    /// The data of a `ConvexError(data)` thrown by the function, read as `T`.
    ///
    /// `None` when the error is not a function failure carrying data; `Some(Err(_))` when the data does not fit
    /// `T`. The data is decoded as a result is (an int64 reads as `i64`, bytes as `Vec<u8>`); `data::<Value>()`
    /// gives it whole, as the `data` field of [`ErrorKind::Function`] holds it.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), convex_fetch::Error> {
    /// #[derive(serde::Deserialize)]
    /// struct Invalid { field: String }
    ///
    /// let client = convex_fetch::Client::from_env()?;
    /// match client.mutation::<_, ()>("tasks:create", serde_json::json!({})).await {
    ///     Err(err) => {
    ///         if let Some(Ok(invalid)) = err.data::<Invalid>() {
    ///             eprintln!("invalid field {}", invalid.field);
    ///         }
    ///     }
    ///     Ok(()) => {}
    /// }
    /// # Ok(()) }
    /// ```
    pub fn data<T: DeserializeOwned>(&self) -> Option<Result<T, serde_json::Error>> {
        match self.kind() {
            ErrorKind::Function {
                data: Some(data), ..
            } => Some(data.deserialize_into()),
            _ => None,
        }
    }

    /// The HTTP status a server handler would usually answer with for this error.
    ///
    /// A `ConvexError` (a failure the function meant to report) is the caller's fault: 400. A function that
    /// crashed is 500. Refusals (of Convex, or the status of a plain HTTP request) pass through as
    /// 401/403/429 where they concern the caller and become 502 otherwise, but for Convex's own 503 (overload),
    /// which passes through; an unreachable deployment or an unreadable answer is 502 and a timeout 504. Bad
    /// args are 400, a body over the client's limit 413, and a request that cannot be sent or a
    /// configuration error 500.
    ///
    /// **Failed argument validation is 400.** The deployment's validators (`v.id("notes")`, a pagination
    /// cursor, `v.string()`…) refuse arguments with an `ArgumentValidationError`
    /// ([`is_argument_validation`](Self::is_argument_validation)); in a REST service those arguments are
    /// nearly always the caller's input passed on (a path id, a cursor, a body), so the request was bad.
    /// A service that builds the arguments itself, where a refusal is its own bug, answers 500 instead: with
    /// the `axum` feature that is one line, `.layer(convex_fetch::axum::invalid_arguments_are_ours())`;
    /// elsewhere, test `is_argument_validation()` before this method. Either way the body says only the
    /// status's reason, never the validator's text.
    pub fn status_code(&self) -> StatusCode {
        if self.is_argument_validation() {
            return StatusCode::BAD_REQUEST;
        }
        match self.kind() {
            ErrorKind::Function { data: Some(_), .. } | ErrorKind::InvalidArgs { .. } => {
                StatusCode::BAD_REQUEST
            }
            ErrorKind::Function { data: None, .. }
            | ErrorKind::Invalid { .. }
            | ErrorKind::Config { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::Server { status, .. } | ErrorKind::Status { status, .. } => match *status {
                StatusCode::UNAUTHORIZED
                | StatusCode::FORBIDDEN
                | StatusCode::TOO_MANY_REQUESTS => *status,
                // Convex itself overloaded: the caller may try again later. A 503 of an HTTP action or a
                // file request is that request's answer, an upstream failure like any other.
                StatusCode::SERVICE_UNAVAILABLE
                    if matches!(self.kind(), ErrorKind::Server { .. }) =>
                {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                _ => StatusCode::BAD_GATEWAY,
            },
            ErrorKind::Transport { .. }
            | ErrorKind::Decode { .. }
            | ErrorKind::ForeignOrigin { .. } => StatusCode::BAD_GATEWAY,
            ErrorKind::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            ErrorKind::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::SnapshotExpired { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Live { problem } => match problem {
                LiveProblem::AuthRefused { .. } => StatusCode::UNAUTHORIZED,
                LiveProblem::MayHaveRun
                | LiveProblem::Fatal { .. }
                | LiveProblem::SocketRefused { .. } => StatusCode::BAD_GATEWAY,
                LiveProblem::Stopped => StatusCode::INTERNAL_SERVER_ERROR,
            },
        }
    }

    /// Whether the deployment refused the call's arguments with an `ArgumentValidationError` (its validators,
    /// before the function ran): a path id that is not an id of the table, a malformed pagination cursor, a
    /// missing field. See [`status_code`](Self::status_code) for how it maps to HTTP.
    pub fn is_argument_validation(&self) -> bool {
        matches!(self.kind(), ErrorKind::Function { details, .. }
            if details.name.as_deref() == Some("ArgumentValidationError"))
    }

    /// Whether the function provably did not run, so the call can be repeated without running it twice:
    /// the request never left this process, or the deployment answered with a status and code that say it
    /// refused the request before running the function or refused its commit (the allow-list of
    /// [`NOT_RUN_CODES`]). Any other answer, a new code included, leaves the outcome unknown; an HTTP
    /// action's status is its own answer: it ran.
    pub fn provably_not_run(&self) -> bool {
        match self.kind() {
            ErrorKind::Transport { sent, .. }
            | ErrorKind::Timeout { sent, .. }
            | ErrorKind::TooLarge { sent, .. } => !sent,
            ErrorKind::InvalidArgs { .. }
            | ErrorKind::Invalid { .. }
            | ErrorKind::ForeignOrigin { .. }
            | ErrorKind::Config { .. } => true,
            ErrorKind::Server { status, code, .. } => not_run(status.as_u16(), code),
            ErrorKind::Function { .. }
            | ErrorKind::Status { .. }
            | ErrorKind::Decode { .. }
            | ErrorKind::SnapshotExpired { .. } => false,
            // A refused `Authenticate` comes before anything the socket runs; a refused upgrade opens no
            // socket at all (a call sent on an earlier socket fails with `MayHaveRun` instead).
            ErrorKind::Live { problem } => matches!(
                problem,
                LiveProblem::AuthRefused { .. } | LiveProblem::SocketRefused { .. }
            ),
        }
    }
}

/// What a sent request adds to a message: it may have run.
fn may_have_reached(sent: bool) -> &'static str {
    if sent {
        " (the request may have reached the deployment)"
    } else {
        ""
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let call: &dyn fmt::Display = match &self.inner.call {
            Some(call) => call,
            None => &"call",
        };
        match self.kind() {
            ErrorKind::Function {
                message, details, ..
            } => {
                write!(f, "Convex {call} failed: {message}")?;
                match &details.request_id {
                    Some(id) => write!(f, " (request {id})"),
                    None => Ok(()),
                }
            }
            ErrorKind::Server {
                status,
                code,
                message,
            } => {
                let space = if code.is_empty() { "" } else { " " };
                write!(
                    f,
                    "Convex refused {call} with HTTP {status}{space}{code}: {message}"
                )
            }
            ErrorKind::Status { status, body } => {
                write!(f, "Convex {call} failed: HTTP {status}: {body}")
            }
            ErrorKind::Transport { message, sent, .. } => write!(
                f,
                "could not reach Convex for {call}: {message}{}",
                may_have_reached(*sent)
            ),
            ErrorKind::Timeout { after, .. } => write!(
                f,
                "Convex {call} timed out after {after:?}; raise the timeout with `.timeout(…)` if it is expected to be slow"
            ),
            ErrorKind::Decode { message, excerpt } => write!(
                f,
                "could not read the answer of Convex {call}: {message} (received: {excerpt})"
            ),
            ErrorKind::TooLarge { limit, .. } => write!(
                f,
                "Convex {call} failed: the body is larger than the limit of {limit} bytes"
            ),
            ErrorKind::ForeignOrigin { origin, expected } => write!(
                f,
                "Convex {call} failed: the URL's origin {origin} is not the deployment's ({expected})"
            ),
            ErrorKind::SnapshotExpired { age } => write!(
                f,
                "Convex {call} failed: its snapshot was taken {:.1} s ago and has expired (Convex keeps snapshots for about {} s); take a new one with `client.snapshot()`",
                age.as_secs_f64(),
                SNAPSHOT_LIFETIME.as_secs()
            ),
            ErrorKind::InvalidArgs { message } => {
                write!(f, "the args of Convex {call} cannot be sent: {message}")
            }
            ErrorKind::Invalid { message } => write!(f, "Convex {call} failed: {message}"),
            ErrorKind::Live { problem } => write!(f, "Convex {call}: {problem}"),
            ErrorKind::Config { message } => {
                write!(f, "convex-fetch is not configured correctly: {message}")
            }
        }
    }
}

/// The kind, and the function or request it failed in.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Error");
        match &self.inner.call {
            Some(Called::Function(function)) => debug.field("function", function),
            Some(Called::Http(request)) => debug.field("request", request),
            None => &mut debug,
        };
        debug.field("kind", self.kind()).finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self.kind() {
            ErrorKind::Transport {
                source: Some(source),
                ..
            } => Some(&**source),
            _ => None,
        }
    }
}

/// What failed in an [`ErrorKind::Live`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LiveProblem {
    /// The deployment refused the credential of the connection (the protocol's `AuthError`): an expired or
    /// unknown token. A subscription keeps trying, and yields values again once a credential is accepted.
    #[error("the deployment refused the credential: {message}")]
    #[non_exhaustive]
    AuthRefused {
        /// The deployment's reason.
        message: String,
    },
    /// The connection was lost while an action (or a mutation whose outcome cannot be learnt again) was in
    /// flight: it may or may not have run. Actions are never re-sent.
    #[error("the connection was lost while the call was in flight: it may have run")]
    MayHaveRun,
    /// The deployment ended the connection with a `FatalError`, a fault of the client it does not expect to
    /// go away by itself. Every stream and pending socket call of the connection gets it; the client
    /// reconnects, its waits drawn below `max_backoff` from the start.
    #[error("the deployment closed the connection with a fatal error: {message}")]
    #[non_exhaustive]
    Fatal {
        /// The deployment's message.
        message: String,
    },
    /// The deployment refused the WebSocket itself: it answered the upgrade with a client-error status, 404
    /// when the URL serves no `/api/sync` (a wrong URL or path prefix, a server without live queries), 401
    /// or 403 when something in front of it does not let the socket through. Retrying the same request
    /// will not help by itself; the client still reconnects with its growing backoff, and a subscription
    /// yields values again once a socket is accepted.
    #[error("the deployment refused the WebSocket with HTTP {status}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    #[non_exhaustive]
    SocketRefused {
        /// The status of the upgrade's answer.
        status: StatusCode,
        /// The start of the answer's body, if any.
        message: String,
    },
    /// The connection's task stopped (the runtime is shutting down).
    #[error("the live connection stopped")]
    Stopped,
}

/// A plain HTTP request of the deployment, named by [`Error::request`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpCall {
    /// A call of an HTTP action on the deployment's site URL.
    Action {
        /// `GET`, `POST`, …
        method: String,
        /// The path called, without the query string (which may carry secrets).
        path: String,
    },
    /// The POST of a file to an upload URL.
    Upload,
    /// The GET of a file from a storage URL.
    Download,
}

impl fmt::Display for HttpCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpCall::Action { method, path } => write!(f, "HTTP action `{method} {path}`"),
            HttpCall::Upload => f.write_str("file upload"),
            HttpCall::Download => f.write_str("file download"),
        }
    }
}

/// How long a deployment keeps the timestamps of snapshots (the backend's transaction window).
pub const SNAPSHOT_LIFETIME: Duration = Duration::from_secs(10);

/// The answers with which a deployment says it did not run a function, or did not commit its transaction:
/// `(status, codes)`, from the backend's error codes. An empty list accepts any code of that status (a 403 is
/// refused before any function runs). `<Kind>IndexTooLarge` codes are matched by their suffix.
pub const NOT_RUN_CODES: &[(u16, &[&str])] = &[
    (
        400,
        &[
            "BadConvexFunctionIdentifier",
            "HeaderParseFailure",
            "InvalidHeaderFailure",
            "InvalidAdminKey",
            "BadJsonBody",
            "ClientVersionUnsupported",
            "InvalidVersion",
        ],
    ),
    (
        401,
        &[
            "InvalidAuthHeader",
            "NoAuthProvider",
            "Unauthenticated",
            "BadAdminKey",
        ],
    ),
    (403, &[]),
    (404, &["FunctionPathNotFound", "FunctionPathWrongType"]),
    (429, &["TooManyConcurrentRequests", "TooManyWrites"]),
    (
        503,
        &[
            "ExpiredInQueue",
            "WorkerOverloaded",
            "ExecuteFullError",
            "InitialPermitTimeoutError",
            "IsolateNotClean",
            "UpstreamConnectError",
            "OptimisticConcurrencyControlFailure",
            "CommitterFullError",
        ],
    ),
];

pub(crate) fn not_run(status: u16, code: &str) -> bool {
    NOT_RUN_CODES.iter().any(|(listed, codes)| {
        *listed == status
            && (codes.is_empty()
                || codes.contains(&code)
                || (status == 503
                    && code.len() > "IndexTooLarge".len()
                    && code.ends_with("IndexTooLarge")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::function::FunctionKind;

    fn name() -> FunctionName {
        FunctionName {
            kind: FunctionKind::Mutation,
            path: "posts:create".to_owned(),
        }
    }

    /// A `Result<T, Error>` stays small: the error is behind one pointer, and its niche makes the `Result`
    /// no bigger.
    #[test]
    fn error_is_at_most_two_words() {
        assert!(size_of::<Error>() <= 2 * size_of::<usize>());
        assert!(size_of::<Result<(), Error>>() <= 2 * size_of::<usize>());
        assert_eq!(size_of::<Result<(), Error>>(), size_of::<Error>());
        // And it still goes wherever errors go: across tasks and threads, behind `Box<dyn Error>`.
        fn is_a_shareable_error<T: std::error::Error + Send + Sync + 'static>() {}
        is_a_shareable_error::<Error>();
    }

    #[test]
    fn a_kind_reads_the_same_for_a_function_and_a_request() {
        let timeout = || ErrorKind::Timeout {
            after: Duration::from_secs(2),
            sent: true,
        };
        let call = Error::call(&name(), timeout());
        let upload = Error::http(&HttpCall::Upload, timeout());
        for err in [&call, &upload] {
            assert_eq!(err.status_code(), StatusCode::GATEWAY_TIMEOUT, "{err}");
            assert!(!err.provably_not_run(), "{err}");
            assert!(err.to_string().contains("timed out after 2s"), "{err}");
        }
        assert_eq!(call.function(), Some(&name()));
        assert_eq!(call.request(), None);
        assert_eq!(upload.request(), Some(&HttpCall::Upload));
        assert_eq!(upload.function(), None);
        assert!(
            upload
                .to_string()
                .starts_with("Convex file upload timed out"),
            "{upload}"
        );
    }

    /// Convex's own 503 passes through; an HTTP request's 503 is its upstream's failure.
    #[test]
    fn statuses_pass_through_where_they_concern_the_caller() {
        for (code, server, status) in [
            (401, 401, 401),
            (403, 403, 403),
            (429, 429, 429),
            (503, 503, 502),
            (500, 502, 502),
        ] {
            let code = StatusCode::from_u16(code).unwrap();
            let refused = Error::call(
                &name(),
                ErrorKind::Server {
                    status: code,
                    code: String::new(),
                    message: String::new(),
                },
            );
            let answered = Error::http(
                &HttpCall::Download,
                ErrorKind::Status {
                    status: code,
                    body: String::new(),
                },
            );
            assert_eq!(refused.status_code().as_u16(), server, "{refused}");
            assert_eq!(answered.status_code().as_u16(), status, "{answered}");
        }
    }

    #[test]
    fn the_transport_source_is_the_error_source() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let err = Error::http(
            &HttpCall::Download,
            ErrorKind::Transport {
                message: "reset".to_owned(),
                sent: true,
                source: Some(Box::new(io)),
            },
        );
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("reset by peer"));
        assert_eq!(
            err.to_string(),
            "could not reach Convex for file download: reset (the request may have reached the deployment)"
        );
        let shown = format!("{err:?}");
        assert!(
            shown.starts_with("Error { request: Download, kind: Transport {"),
            "{shown}"
        );
    }
}
