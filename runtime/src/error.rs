//! The one error type of every call, with kinds a handler can match on.

use crate::function::FunctionKind;
use reqwest::StatusCode;
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
///         Error::Function { message, .. } => format!("the function threw: {message}"),
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
    #[error("Convex {function} failed: {message}")]
    Function {
        /// The function that failed.
        function: FunctionName,
        /// Convex's `errorMessage`.
        message: String,
        /// The `ConvexError` data, decoded from the Convex encoding into plain JSON.
        data: Option<serde_json::Value>,
        /// The function's log lines (`"[LOG] …"`).
        log_lines: Vec<String>,
    },

    /// The deployment refused the request before or around the function (any non-2xx other than 560):
    /// a bad path, bad auth, overload. `code` and `message` come from the `{code, message}` body when there is
    /// one; a body that is not JSON (a proxy's HTML page) is kept as a short excerpt in `message`.
    #[error("Convex refused {function} with HTTP {status}{}: {message}", if code.is_empty() { String::new() } else { format!(" {code}") })]
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
    Transport {
        /// The function called.
        function: FunctionName,
        /// What failed, from the HTTP stack.
        message: String,
        /// `false` only when the request provably never left this process (connect failed).
        sent: bool,
        /// The underlying error.
        #[source]
        source: Option<reqwest::Error>,
    },

    /// No answer within the call's timeout. The function may still have run.
    #[error(
        "Convex {function} timed out after {after:?}; raise the timeout with `.timeout(…)` if it is expected to be slow"
    )]
    Timeout {
        /// The function called.
        function: FunctionName,
        /// The timeout that elapsed.
        after: Duration,
    },

    /// The deployment answered, but the answer was not what the call declared: not a Convex response, or a
    /// value that does not fit the declared return type.
    #[error("could not read the answer of Convex {function}: {message} (received: {excerpt})")]
    Decode {
        /// The function called.
        function: FunctionName,
        /// What did not match (serde's message).
        message: String,
        /// The start of what was received.
        excerpt: String,
    },

    /// The args cannot be sent: not an object, a field name starting with `$`, an integer beyond what Convex
    /// represents. Nothing was sent.
    #[error("the args of Convex {function} cannot be sent: {message}")]
    InvalidArgs {
        /// The function called.
        function: FunctionName,
        /// What is wrong with the args.
        message: String,
    },

    /// The client is not set up: no `CONVEX_URL`, an invalid deployment URL, a credential that cannot be a
    /// header. Nothing was sent.
    #[error("convex-fetch is not configured correctly: {message}")]
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
            | Error::InvalidArgs { function, .. } => Some(function),
            Error::Config { .. } => None,
        }
    }

    /// The data of a `ConvexError(data)` thrown by the function, read as `T`.
    ///
    /// `None` when the error is not a function failure carrying data; `Some(Err(_))` when the data does not fit
    /// `T`.
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
            } => Some(T::deserialize(data)),
            _ => None,
        }
    }

    /// The HTTP status a server handler would usually answer with for this error.
    ///
    /// A `ConvexError` (a failure the function meant to report) is the caller's fault: 400. A function that
    /// crashed is 500. Convex's own refusals pass through as 401/403/429 where they concern the caller and
    /// become 502 otherwise; an unreachable deployment is 502 and a timeout 504. Bad args are 400 and a
    /// configuration error is 500.
    pub fn status_code(&self) -> StatusCode {
        match self {
            Error::Function { data: Some(_), .. } | Error::InvalidArgs { .. } => {
                StatusCode::BAD_REQUEST
            }
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
        }
    }

    /// Whether the function provably did not run, so the call can be repeated without running it twice:
    /// the request never left this process, or Convex said it refused it before running it.
    pub fn provably_not_run(&self) -> bool {
        match self {
            Error::Transport { sent, .. } => !sent,
            Error::InvalidArgs { .. } | Error::Config { .. } => true,
            Error::Server { status, code, .. } => match status.as_u16() {
                400 | 401 | 403 | 404 | 409 | 429 => true,
                503 => NOT_COMMITTED_CODES.contains(&code.as_str()),
                _ => false,
            },
            Error::Function { .. } | Error::Timeout { .. } | Error::Decode { .. } => false,
        }
    }
}

/// 503 codes with which Convex says the function was not run (or its transaction did not commit).
pub(crate) const NOT_COMMITTED_CODES: &[&str] = &[
    "OptimisticConcurrencyControlFailure",
    "Overloaded",
    "RejectedBeforeExecution",
];
