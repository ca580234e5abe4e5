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

/// What a function failure's text says beyond its message (see [`Error::Function`]).
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

/// The error of a Convex call.
///
/// Match on the variant to decide what to answer; [`Error::status_code`] suggests an HTTP status for a
/// handler that just wants to pass the failure on:
///
/// ```
/// use convex_fetch::Error;
///
/// fn describe(err: &Error) -> String {
///     match err {
///         Error::Function { message, details, .. } => match &details.request_id {
///             Some(id) => format!("the function threw: {message} (request {id})"),
///             None => format!("the function threw: {message}"),
///         },
///         Error::Server { status, code, .. } => format!("refused with {status} {code}"),
///         Error::Timeout { .. } => "Convex took too long".to_owned(),
///         other => other.to_string(),
///     }
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The function ran and threw. `data` holds what a `ConvexError(data)` carried (read it with
    /// [`Error::data`]); a plain `Error` has none. Argument validation failures and calls to a function that
    /// does not exist also land here, as Convex reports them this way.
    ///
    /// The deployment's `errorMessage` (`[Request ID: 3f2a…] Server Error\nUncaught Error: boom\n    at …`) is
    /// taken apart: `message` is `boom`, and [`details`](FailureDetails) hold the name `Error`, the request id
    /// `3f2a…`, the `at` lines and the whole text. Production deployments redact the message of a throw that
    /// is not a `ConvexError`: `message` is then `Server Error`, and only the request id and the data remain.
    #[error("Convex {function} failed: {message}{}", details.request_id.as_ref().map(|id| format!(" (request {id})")).unwrap_or_default())]
    #[non_exhaustive]
    Function {
        /// The function that failed.
        function: FunctionName,
        /// The error's own message: `boom` of `Uncaught Error: boom`.
        message: String,
        /// The `ConvexError` data, as Convex sent it: an int64, bytes, NaN or -0 in it keeps its type.
        data: Option<crate::value::Value>,
        /// The function's log lines (`"[LOG] …"`).
        log_lines: Vec<String>,
        /// The rest of what the error's text says.
        details: Box<FailureDetails>,
    },

    /// The deployment refused the request before or around the function (any non-2xx other than 560):
    /// a bad path, bad auth, overload. `code` and `message` come from the `{code, message}` body when there is
    /// one; a body that is not JSON (a proxy's HTML page) is kept as a short excerpt in `message`.
    #[error("Convex refused {function} with HTTP {status}{}: {message}", if code.is_empty() { String::new() } else { format!(" {code}") })]
    #[non_exhaustive]
    Server {
        /// The function called.
        function: FunctionName,
        /// The HTTP status of the answer.
        status: StatusCode,
        /// Convex's short error code (`BadConvexFunctionIdentifier`, `InvalidAuthHeader`); empty if none.
        code: String,
        /// Convex's message, or an excerpt of a body that was not Convex JSON.
        message: String,
    },

    /// The request did not complete: connection refused or reset, TLS, DNS, or a body cut short.
    /// `sent` says whether the request may have reached the deployment (a mutation may then have run).
    #[error("could not reach Convex for {function}: {message}{}", if *sent { " (the request may have reached the deployment)" } else { "" })]
    #[non_exhaustive]
    Transport {
        /// The function called.
        function: FunctionName,
        /// What failed, from the HTTP stack.
        message: String,
        /// `false` only when the request provably never left this process (connect failed).
        sent: bool,
        /// The underlying error of the HTTP stack.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// No answer within the call's timeout. The function may still have run.
    #[error(
        "Convex {function} timed out after {after:?}; raise the timeout with `.timeout(…)` if it is expected to be slow"
    )]
    #[non_exhaustive]
    Timeout {
        /// The function called.
        function: FunctionName,
        /// The timeout that elapsed.
        after: Duration,
        /// Whether the request may have reached the deployment: `false` when the whole time was spent
        /// waiting for a slot of the client's in-flight limit, so the function did not run.
        sent: bool,
    },

    /// The deployment answered, but the answer was not what the call declared: not a Convex response, or a
    /// value that does not fit the declared return type.
    #[error("could not read the answer of Convex {function}: {message} (received: {excerpt})")]
    #[non_exhaustive]
    Decode {
        /// The function called.
        function: FunctionName,
        /// What did not match (serde's message).
        message: String,
        /// The start of what was received.
        excerpt: String,
    },

    /// A query at a [`Snapshot`](crate::Snapshot) older than the deployment keeps them (about
    /// [`SNAPSHOT_LIFETIME`]): take a new snapshot. Not retried.
    #[error(
        "Convex {function} failed: its snapshot was taken {:.1} s ago and has expired (Convex keeps snapshots for about {} s); take a new one with `client.snapshot()`",
        age.as_secs_f64(), SNAPSHOT_LIFETIME.as_secs()
    )]
    #[non_exhaustive]
    SnapshotExpired {
        /// The query called.
        function: FunctionName,
        /// How long before the failure the snapshot was taken.
        age: Duration,
    },

    /// The args cannot be sent: not an object, a field name starting with `$`, an integer beyond what Convex
    /// represents. Nothing was sent.
    #[error("the args of Convex {function} cannot be sent: {message}")]
    #[non_exhaustive]
    InvalidArgs {
        /// The function called.
        function: FunctionName,
        /// What is wrong with the args.
        message: String,
    },

    /// A plain HTTP request of the deployment failed: a call of an HTTP action, or a file upload or download.
    /// `problem` says what failed; match on it:
    ///
    /// ```
    /// use convex_fetch::{Error, HttpProblem};
    ///
    /// fn may_have_been_stored(err: &Error) -> bool {
    ///     match err {
    ///         Error::Http { problem: HttpProblem::ForeignOrigin { .. }, .. } => false,
    ///         other => !other.provably_not_run(),
    ///     }
    /// }
    /// ```
    #[error("Convex {request} failed: {problem}")]
    #[non_exhaustive]
    Http {
        /// Which request failed.
        request: HttpCall,
        /// What failed.
        problem: HttpProblem,
    },

    /// A live query, or a call sent over the WebSocket, failed for a reason of the connection rather than of
    /// the function: the deployment refused the credential, or the connection was lost under an action.
    /// `problem` says which; match on it.
    #[error("Convex {function}: {problem}")]
    #[non_exhaustive]
    Live {
        /// The function subscribed to or called.
        function: FunctionName,
        /// What failed.
        problem: LiveProblem,
    },

    /// The client is not set up: no `CONVEX_URL`, an invalid deployment URL, a credential that cannot be a
    /// header. Nothing was sent.
    #[error("convex-fetch is not configured correctly: {message}")]
    #[non_exhaustive]
    Config {
        /// What to fix.
        message: String,
    },
}

impl Error {
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
        }
    }

    /// The function the call was for; `None` for a configuration error.
    pub fn function(&self) -> Option<&FunctionName> {
        match self {
            Error::Function { function, .. }
            | Error::Server { function, .. }
            | Error::Transport { function, .. }
            | Error::Timeout { function, .. }
            | Error::Decode { function, .. }
            | Error::SnapshotExpired { function, .. }
            | Error::InvalidArgs { function, .. }
            | Error::Live { function, .. } => Some(function),
            Error::Config { .. } | Error::Http { .. } => None,
        }
    }

    /// The data of a `ConvexError(data)` thrown by the function, read as `T`.
    ///
    /// `None` when the error is not a function failure carrying data; `Some(Err(_))` when the data does not fit
    /// `T`. The data is decoded as a result is (an int64 reads as `i64`, bytes as `Vec<u8>`); `data::<Value>()`
    /// gives it whole, as the `data` field holds it.
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
        match self {
            Error::Function {
                data: Some(data), ..
            } => Some(data.deserialize_into()),
            _ => None,
        }
    }

    /// The HTTP status a server handler would usually answer with for this error.
    ///
    /// A `ConvexError` (a failure the function meant to report) is the caller's fault: 400. A function that
    /// crashed is 500. Convex's own refusals pass through as 401/403/429 where they concern the caller and
    /// become 502 otherwise; an unreachable deployment is 502 and a timeout 504. Bad args are 400 and a
    /// configuration error is 500.
    ///
    /// **Failed argument validation is 400.** The deployment's validators (`v.id("notes")`, a pagination
    /// cursor, `v.string()`…) refuse arguments with an `ArgumentValidationError`
    /// ([`is_argument_validation`](Self::is_argument_validation)); in a REST service those arguments are
    /// nearly always the caller's input passed on (a path id, a cursor, a body), so the request was bad.
    /// A service that builds the arguments itself, where a refusal is its own bug, answers 500 instead: with
    /// the `axum` feature that is one line, `.layer(middleware::from_fn(convex_fetch::axum::invalid_arguments_are_ours))`;
    /// elsewhere, test `is_argument_validation()` before this method. Either way the body says only the
    /// status's reason, never the validator's text.
    pub fn status_code(&self) -> StatusCode {
        match self {
            Error::Function { data: Some(_), .. } | Error::InvalidArgs { .. } => {
                StatusCode::BAD_REQUEST
            }
            _ if self.is_argument_validation() => StatusCode::BAD_REQUEST,
            Error::Function { data: None, .. } | Error::Config { .. } => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            Error::Server { status, .. } => match *status {
                StatusCode::UNAUTHORIZED
                | StatusCode::FORBIDDEN
                | StatusCode::TOO_MANY_REQUESTS => *status,
                StatusCode::SERVICE_UNAVAILABLE => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_GATEWAY,
            },
            Error::Transport { .. } | Error::Decode { .. } => StatusCode::BAD_GATEWAY,
            Error::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            Error::SnapshotExpired { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Error::Live { problem, .. } => match problem {
                LiveProblem::AuthRefused { .. } => StatusCode::UNAUTHORIZED,
                LiveProblem::MayHaveRun
                | LiveProblem::Fatal { .. }
                | LiveProblem::SocketRefused { .. } => StatusCode::BAD_GATEWAY,
                LiveProblem::Stopped => StatusCode::INTERNAL_SERVER_ERROR,
            },
            Error::Http { problem, .. } => match problem {
                HttpProblem::Status { status, .. } => match *status {
                    StatusCode::UNAUTHORIZED
                    | StatusCode::FORBIDDEN
                    | StatusCode::TOO_MANY_REQUESTS => *status,
                    _ => StatusCode::BAD_GATEWAY,
                },
                HttpProblem::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
                HttpProblem::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                HttpProblem::Invalid { .. } => StatusCode::INTERNAL_SERVER_ERROR,
                HttpProblem::Transport { .. }
                | HttpProblem::ForeignOrigin { .. }
                | HttpProblem::Decode { .. } => StatusCode::BAD_GATEWAY,
            },
        }
    }

    /// Whether the deployment refused the call's arguments with an `ArgumentValidationError` (its validators,
    /// before the function ran): a path id that is not an id of the table, a malformed pagination cursor, a
    /// missing field. See [`status_code`](Self::status_code) for how it maps to HTTP.
    pub fn is_argument_validation(&self) -> bool {
        matches!(self, Error::Function { details, .. }
            if details.name.as_deref() == Some("ArgumentValidationError"))
    }

    /// Whether the function provably did not run, so the call can be repeated without running it twice:
    /// the request never left this process, or the deployment answered with a status and code that say it
    /// refused the request before running the function or refused its commit (the allow-list of
    /// [`NOT_RUN_CODES`]). Any other answer, a new code included, leaves the outcome unknown.
    pub fn provably_not_run(&self) -> bool {
        match self {
            Error::Transport { sent, .. } | Error::Timeout { sent, .. } => !sent,
            Error::InvalidArgs { .. } | Error::Config { .. } => true,
            Error::Server { status, code, .. } => not_run(status.as_u16(), code),
            Error::Function { .. } | Error::Decode { .. } | Error::SnapshotExpired { .. } => false,
            // A refused `Authenticate` comes before anything the socket runs; a refused upgrade opens no
            // socket at all (a call sent on an earlier socket fails with `MayHaveRun` instead).
            Error::Live { problem, .. } => matches!(
                problem,
                LiveProblem::AuthRefused { .. } | LiveProblem::SocketRefused { .. }
            ),
            Error::Http { problem, .. } => match problem {
                HttpProblem::Transport { sent, .. } | HttpProblem::Timeout { sent, .. } => !sent,
                HttpProblem::ForeignOrigin { .. } | HttpProblem::Invalid { .. } => true,
                HttpProblem::TooLarge { sent, .. } => !sent,
                // An HTTP action's status is its own answer: it ran.
                HttpProblem::Status { .. } | HttpProblem::Decode { .. } => false,
            },
        }
    }
}

/// What failed in an [`Error::Live`].
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

/// A plain HTTP request of the deployment, named in [`Error::Http`].
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

/// What failed in an [`Error::Http`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpProblem {
    /// The answer's status was not a success: an upload or download refused, or an HTTP action's answer
    /// turned into an error by [`HttpResponse::error_for_status`](crate::HttpResponse::error_for_status).
    #[error("HTTP {status}: {body}")]
    #[non_exhaustive]
    Status {
        /// The HTTP status of the answer.
        status: StatusCode,
        /// The start of the answer's body.
        body: String,
    },

    /// The request did not complete. `sent` says whether it may have reached the deployment (an upload may
    /// then have been stored).
    #[error("{message}{}", if *sent { " (the request may have reached the deployment)" } else { "" })]
    #[non_exhaustive]
    Transport {
        /// What failed, from the HTTP stack.
        message: String,
        /// `false` only when the request provably never left this process.
        sent: bool,
    },

    /// No complete answer within the request's timeout.
    #[error(
        "timed out after {after:?}; raise the timeout with `.timeout(…)` if it is expected to be slow"
    )]
    #[non_exhaustive]
    Timeout {
        /// The timeout that elapsed.
        after: Duration,
        /// Whether the request may have reached the deployment.
        sent: bool,
    },

    /// A body is larger than the client allows: a file over
    /// [`max_file_bytes`](crate::ClientBuilder::max_file_bytes), or an HTTP action's answer over
    /// [`max_response_bytes`](crate::ClientBuilder::max_response_bytes).
    #[error("the body is larger than the limit of {limit} bytes")]
    #[non_exhaustive]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
        /// Whether part of the body was sent before the limit was reached (an upload whose size was not
        /// known beforehand); the upload is then cut off, and the deployment refuses it.
        sent: bool,
    },

    /// An upload or download URL of another origin than the deployment's: refused, nothing was sent to it.
    #[error("the URL's origin {origin} is not the deployment's ({expected})")]
    #[non_exhaustive]
    ForeignOrigin {
        /// The URL's origin (`scheme://host:port`); its path and query, which may hold a token, are not kept.
        origin: String,
        /// The deployment's origin.
        expected: String,
    },

    /// The answer could not be read as asked: not JSON of the expected type, not UTF-8 text, or an upload
    /// answer without a `storageId`.
    #[error("the answer could not be read: {message} (received: {excerpt})")]
    #[non_exhaustive]
    Decode {
        /// What did not match.
        message: String,
        /// The start of what was received.
        excerpt: String,
    },

    /// The request cannot be sent: a header or path that HTTP cannot carry, a body that cannot be encoded.
    /// Nothing was sent.
    #[error("{message}")]
    #[non_exhaustive]
    Invalid {
        /// What is wrong.
        message: String,
    },
}

impl Error {
    pub(crate) fn http(request: &HttpCall, problem: HttpProblem) -> Error {
        Error::Http {
            request: request.clone(),
            problem,
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
