//! The one attempt loop of every request the client sends: function calls, HTTP actions, uploads and
//! downloads. Attempts go on until one succeeds, the rules refuse another, or the deadline passes; each holds
//! its slot of the calls in flight while it runs; the wait before the next is the retry policy's (or the
//! server's `Retry-After`), never past the deadline; each retry is traced. What differs between requests is
//! data ([`Rules`], [`Tried`]); what an attempt sends and reads stays with its module.

use crate::client::Client;
use crate::error::Error;
use crate::function::FunctionKind;
use crate::retry::may_retry;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The longest a request waits: 30 years, Tokio's own far future.
pub(crate) const FOREVER: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);

/// The instant `timeout` from now; a timeout beyond any instant (`Duration::MAX` for "no limit") waits as
/// long as Tokio can.
pub(crate) fn deadline(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout.min(FOREVER))
        .or_else(|| now.checked_add(FOREVER))
        .unwrap_or(now)
}

/// Which request the loop runs, for its traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Request {
    Call,
    HttpAction,
    Upload,
    Download,
}

/// What may be tried again for one request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    pub(crate) request: Request,
    /// Whether running it twice does no harm (a query, a `GET`): any transient failure is tried again.
    /// Otherwise only a transient failure that proves the request did not run.
    pub(crate) idempotent: bool,
    /// Whether the body can be sent again (bytes in memory); a stream, once handed over, cannot, so its
    /// request has one attempt.
    pub(crate) body_again: bool,
    /// The cap on calls in flight that each attempt holds a slot of, and whose turn (ordered mutations) the
    /// whole request holds; `None` for uploads and downloads, which no cap counts.
    pub(crate) slot: Option<FunctionKind>,
}

/// One attempt's outcome, and what it tells about another.
#[derive(Debug)]
pub(crate) struct Tried<T> {
    /// What the request gives if this is the last attempt: an answer (an HTTP action's 503 is one) or an
    /// error.
    pub(crate) outcome: Result<T, Error>,
    /// Whether another attempt could fare better: a transport failure, a 429, 502, 503 or 504.
    pub(crate) transient: bool,
    /// Whether the failure proves the request did not run (the deployment's refusal with a code of
    /// `NOT_RUN_CODES`, a failed connect).
    pub(crate) not_run: bool,
    /// The wait the server asked for with `Retry-After`.
    pub(crate) retry_after: Option<Duration>,
}

impl<T> Tried<T> {
    /// An outcome no other attempt would change: a success, or a failure that is not transient.
    pub(crate) fn done(outcome: Result<T, Error>) -> Tried<T> {
        Tried {
            outcome,
            transient: false,
            not_run: false,
            retry_after: None,
        }
    }
}

impl Rules {
    /// Runs `attempt` until it succeeds, these rules refuse another, or `deadline` passes: then
    /// `timed_out()`. `sent` is set as an attempt starts sending, so that a timeout can say whether
    /// anything was sent.
    pub(crate) async fn run<T, Fut>(
        self,
        client: &Client,
        deadline: Instant,
        sent: &AtomicBool,
        mut attempt: impl FnMut() -> Fut,
        timed_out: impl FnOnce() -> Error,
    ) -> Result<T, Error>
    where
        Fut: Future<Output = Tried<T>>,
    {
        let attempts = async {
            // A client ordering its mutations holds the turn for the whole request, retries included.
            let _turn = match self.slot {
                Some(kind) => client.in_flight().take_turn(kind).await,
                None => None,
            };
            let mut number = 1;
            loop {
                let tried = {
                    // Held until the answer is read; a wait for it counts against the deadline.
                    let _slots = match self.slot {
                        Some(kind) => Some(client.in_flight().take(kind).await),
                        None => None,
                    };
                    sent.store(true, Ordering::Relaxed);
                    attempt().await
                };
                let Some(delay) = self.delay(client, number, &tried) else {
                    return tried.outcome;
                };
                // A `Retry-After` beyond the deadline (or beyond any instant) ends the request now.
                if Instant::now()
                    .checked_add(delay)
                    .is_none_or(|at| at >= deadline)
                {
                    return tried.outcome;
                }
                self.trace(number, delay, &tried.outcome);
                tokio::time::sleep(delay).await;
                number += 1;
            }
        };
        match tokio::time::timeout_at(deadline.into(), attempts).await {
            Ok(outcome) => outcome,
            Err(_) => Err(timed_out()),
        }
    }

    /// The wait before attempt `number + 1`, if there is to be one.
    fn delay<T>(&self, client: &Client, number: u32, tried: &Tried<T>) -> Option<Duration> {
        if !(self.body_again && may_retry(self.idempotent, tried.transient, tried.not_run)) {
            return None;
        }
        client.retry().delay(number, tried.retry_after)
    }

    fn trace<T>(&self, number: u32, delay: Duration, outcome: &Result<T, Error>) {
        let delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        let error = outcome.as_ref().err().map(tracing::field::display);
        match self.request {
            Request::Call => {
                tracing::debug!(attempt = number, delay_ms, error, "retrying convex call")
            }
            Request::HttpAction => {
                tracing::debug!(attempt = number, delay_ms, error, "retrying HTTP action")
            }
            Request::Upload => {
                tracing::debug!(
                    attempt = number,
                    delay_ms,
                    error,
                    "retrying the upload: it was not sent"
                )
            }
            Request::Download => {
                tracing::debug!(attempt = number, delay_ms, error, "retrying the download")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(idempotent: bool, body_again: bool) -> Rules {
        Rules {
            request: Request::Call,
            idempotent,
            body_again,
            slot: None,
        }
    }

    fn tried(transient: bool, not_run: bool) -> Tried<()> {
        Tried {
            outcome: Ok(()),
            transient,
            not_run,
            retry_after: None,
        }
    }

    #[test]
    fn what_may_be_tried_again_is_decided_by_the_rules() {
        let client = Client::new("http://127.0.0.1:9").unwrap();
        let again = |rules: Rules, tried: Tried<()>| rules.delay(&client, 1, &tried).is_some();
        // A query or a `GET`: any transient failure.
        assert!(again(rules(true, true), tried(true, false)));
        // A write: only one that proves it did not run.
        assert!(!again(rules(false, true), tried(true, false)));
        assert!(again(rules(false, true), tried(true, true)));
        // Nothing that is not transient, nor a body that cannot be sent again.
        assert!(!again(rules(true, true), tried(false, true)));
        assert!(!again(rules(false, false), tried(true, true)));
        // The policy's attempts are counted: three by default.
        assert!(
            rules(true, true)
                .delay(&client, 3, &tried(true, false))
                .is_none()
        );
    }

    #[test]
    fn a_deadline_beyond_any_instant_is_the_far_future() {
        let year = Duration::from_secs(365 * 24 * 60 * 60);
        assert!(deadline(Duration::MAX) > Instant::now() + year);
        assert!(deadline(Duration::ZERO) <= Instant::now());
    }
}
