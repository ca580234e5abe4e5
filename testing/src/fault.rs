//! Faults a test injects into the answers of a running deployment: error statuses, proxy pages, lost
//! connections, cut bodies.

use axum::body::{Body, Bytes};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// A failure the deployment serves instead of (or on top of) a normal answer; queue them with
/// [`TestDeployment::fail_next`](super::TestDeployment::fail_next).
///
/// `Status` and `DropConnection` strike **before** the function runs: a mutation they hit provably did not
/// run. `DropAfterRun` and `TruncatedBody` strike **after**: the function ran, but its answer is lost, as when
/// a connection breaks on the way back.
///
/// ```
/// use convex_fetch_testing::Fault;
/// use serde_json::json;
///
/// let overloaded = Fault::system(503, "Overloaded", "try again later").with_header("Retry-After", "1");
/// let proxy_page = Fault::html(502, "<html><body>Bad Gateway</body></html>");
/// let custom = Fault::status_json(429, json!({ "code": "RateLimited", "message": "slow down" }));
/// # let _ = (overloaded, proxy_page, custom);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answers with this status, body and headers without running the function.
    Status {
        /// The HTTP status (an invalid one is served as 500).
        status: u16,
        /// The body, as sent.
        body: String,
        /// The `Content-Type` header.
        content_type: String,
        /// Further headers (`Retry-After`); names or values that cannot be headers are left out.
        headers: Vec<(String, String)>,
    },
    /// Closes the connection without answering, without running the function.
    DropConnection,
    /// Runs the function, then closes the connection without answering: the caller cannot know it ran.
    DropAfterRun,
    /// Runs the function, then sends the answer's headers with its full `Content-Length` but only the first
    /// half of its body, and closes the connection.
    TruncatedBody,
}

impl Fault {
    /// A status with a JSON body.
    pub fn status_json(status: u16, body: serde_json::Value) -> Fault {
        Fault::Status {
            status,
            body: body.to_string(),
            content_type: "application/json".to_owned(),
            headers: Vec::new(),
        }
    }

    /// A Convex system failure: the status with the body `{"code": code, "message": message}`, like
    /// `Fault::system(503, "OptimisticConcurrencyControlFailure", "…")`.
    pub fn system(status: u16, code: &str, message: &str) -> Fault {
        Fault::status_json(
            status,
            serde_json::json!({ "code": code, "message": message }),
        )
    }

    /// A status with an HTML body, as a proxy or load balancer in front of a deployment sends.
    pub fn html(status: u16, html: impl Into<String>) -> Fault {
        Fault::Status {
            status,
            body: html.into(),
            content_type: "text/html; charset=utf-8".to_owned(),
            headers: Vec::new(),
        }
    }

    /// Adds a header to a `Status` fault (other faults send no headers and are returned unchanged).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Fault {
        if let Fault::Status { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }

    /// Whether the fault strikes before the function runs.
    pub(crate) fn before_run(&self) -> bool {
        matches!(self, Fault::Status { .. } | Fault::DropConnection)
    }
}

/// How long a cut body waits after its first half, so that the half reaches the client before the close.
const TRUNCATE_PAUSE: Duration = Duration::from_millis(20);

/// What every request meets first, on both deployments: its connection (from the request's extensions, for a
/// fault that cuts it), the fault at the front of the queue, and the configured latency, slept here.
pub(crate) async fn arrive(
    extensions: &axum::http::Extensions,
    faults: &std::sync::Mutex<std::collections::VecDeque<Fault>>,
    latency: &std::sync::Mutex<Duration>,
) -> (Option<crate::conn::Connection>, Option<Fault>) {
    let connection = extensions
        .get::<axum::extract::ConnectInfo<crate::conn::Connection>>()
        .map(|info| info.0.clone());
    let fault = crate::lock(faults).pop_front();
    let latency = *crate::lock(latency);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    (connection, fault)
}

/// The body of a [`Fault::TruncatedBody`] answer: the first half of `body`, then an error that makes the
/// server close the connection short of the declared length.
pub(crate) fn truncated_body(body: Vec<u8>) -> Body {
    let half = body.len() / 2;
    let mut body = body;
    body.truncate(half);
    Body::from_stream(Truncated {
        head: Some(Bytes::from(body)),
        pause: Box::pin(tokio::time::sleep(TRUNCATE_PAUSE)),
    })
}

struct Truncated {
    head: Option<Bytes>,
    pause: Pin<Box<tokio::time::Sleep>>,
}

impl fmt::Debug for Truncated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Truncated").finish_non_exhaustive()
    }
}

impl futures_core::Stream for Truncated {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(head) = self.head.take() {
            return Poll::Ready(Some(Ok(head)));
        }
        std::task::ready!(self.pause.as_mut().poll(cx));
        Poll::Ready(Some(Err(std::io::Error::other(
            "body truncated by the test deployment",
        ))))
    }
}
