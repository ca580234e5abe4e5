//! Which failed calls are tried again, and when.

use crate::error::{Error, ErrorKind};
#[cfg(test)]
use crate::function::FunctionKind;
use http::StatusCode;
use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

/// How failed calls are retried.
///
/// A query is read-only, so it is retried after any transient failure: a connection error, or HTTP 429, 502,
/// 503 or 504. A mutation or an action is retried only when the failure proves the function did not run: the
/// connection failed before the request was sent, or a 429 or 503 whose code says the function never started
/// or its transaction did not commit ([`NOT_RUN_CODES`](crate::NOT_RUN_CODES)); any other code leaves the
/// outcome unknown, and the error is returned. Waits grow exponentially with jitter, honour `Retry-After`, and never outlast the call's timeout.
///
/// ```
/// use convex_fetch::RetryPolicy;
/// use std::time::Duration;
///
/// let patient = RetryPolicy::default().max_attempts(5).base_delay(Duration::from_millis(200));
/// let never = RetryPolicy::none();
/// # let _ = (patient, never);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Three attempts, 100 ms then 200 ms apart (± jitter), waits capped at 5 s.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// One attempt per call: nothing is retried.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Attempts per call, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The wait before the first retry; each later wait doubles it.
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The longest wait between attempts, `Retry-After` included.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The wait before attempt `attempt + 1` of a call after `error`, or `None` if the call must not be
    /// retried: the rules `attempts::Rules` applies to a call.
    #[cfg(test)]
    pub(crate) fn delay_after(
        &self,
        kind: FunctionKind,
        attempt: u32,
        error: &Error,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        if !is_retryable(kind, error) {
            return None;
        }
        self.delay(attempt, retry_after)
    }

    /// The wait before attempt `attempt + 1` of a request already judged retryable, or `None` after the last
    /// attempt.
    pub(crate) fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let exponential = self.base_delay.saturating_mul(1 << (attempt - 1).min(16));
        // Full jitter in [50%, 100%] of the exponential wait spreads out clients that failed together.
        let factor = 0.5 + 0.5 * random_unit();
        // Not `mul_f64`: near `Duration::MAX` its rounding can overflow and panic.
        let jittered =
            Duration::try_from_secs_f64(exponential.as_secs_f64() * factor).unwrap_or(exponential);
        Some(retry_after.unwrap_or(jittered).min(self.max_delay))
    }
}

/// Whether a failed attempt may be tried again: any transient failure of a request that may run twice (a
/// query, a `GET`), and for others (writes) only a transient failure that proves nothing ran.
pub(crate) fn may_retry(idempotent: bool, transient: bool, not_run: bool) -> bool {
    transient && (idempotent || not_run)
}

/// Whether a call's failure could pass on its own: a transport failure, a 429, 502, 503 or 504.
pub(crate) fn transient(error: &Error) -> bool {
    match error.kind() {
        ErrorKind::Transport { .. } => true,
        ErrorKind::Server { status, .. } => matches!(
            *status,
            StatusCode::TOO_MANY_REQUESTS
                | StatusCode::BAD_GATEWAY
                | StatusCode::SERVICE_UNAVAILABLE
                | StatusCode::GATEWAY_TIMEOUT
        ),
        _ => false,
    }
}

#[cfg(test)]
fn is_retryable(kind: FunctionKind, error: &Error) -> bool {
    may_retry(
        kind == FunctionKind::Query,
        transient(error),
        error.provably_not_run(),
    )
}

/// A number in [0, 1) from the standard library's randomly keyed hasher: enough for jitter.
fn random_unit() -> f64 {
    (RandomState::new().hash_one(0u8) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FunctionName;

    fn server(status: u16, code: &str) -> Error {
        let function = FunctionName {
            kind: FunctionKind::Mutation,
            path: "tasks:complete".into(),
        };
        Error::call(
            &function,
            ErrorKind::Server {
                status: StatusCode::from_u16(status).unwrap(),
                code: code.into(),
                message: String::new(),
            },
        )
    }

    #[test]
    fn queries_retry_transient_failures_writes_only_provable_ones() {
        let policy = RetryPolicy::default();
        let retry = |kind, e: &Error| policy.delay_after(kind, 1, e, None).is_some();
        assert!(retry(FunctionKind::Query, &server(502, "")));
        assert!(!retry(FunctionKind::Mutation, &server(502, "")));
        assert!(!retry(
            FunctionKind::Mutation,
            &server(503, "InternalServerError")
        ));
        assert!(retry(
            FunctionKind::Mutation,
            &server(503, "OptimisticConcurrencyControlFailure")
        ));
        assert!(retry(
            FunctionKind::Action,
            &server(429, "TooManyConcurrentRequests")
        ));
        assert!(!retry(FunctionKind::Action, &server(429, "")));
        assert!(retry(FunctionKind::Query, &server(429, "")));
        assert!(!retry(FunctionKind::Mutation, &server(503, "Overloaded")));
        assert!(retry(
            FunctionKind::Mutation,
            &server(503, "VectorIndexTooLarge")
        ));
        assert!(!retry(FunctionKind::Query, &server(500, "")));
        assert!(!retry(
            FunctionKind::Query,
            &server(400, "BadConvexFunctionIdentifier")
        ));
    }

    #[test]
    fn waits_grow_stay_capped_and_stop_after_the_last_attempt() {
        let policy = RetryPolicy::default()
            .base_delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(300));
        let e = server(503, "ExpiredInQueue");
        let first = policy
            .delay_after(FunctionKind::Query, 1, &e, None)
            .unwrap();
        assert!(
            first >= Duration::from_millis(50) && first <= Duration::from_millis(100),
            "{first:?}"
        );
        let second = policy
            .delay_after(FunctionKind::Query, 2, &e, None)
            .unwrap();
        assert!(
            second >= Duration::from_millis(100) && second <= Duration::from_millis(200),
            "{second:?}"
        );
        assert_eq!(policy.delay_after(FunctionKind::Query, 3, &e, None), None);
        let told = policy.delay_after(FunctionKind::Query, 1, &e, Some(Duration::from_secs(9)));
        assert_eq!(told, Some(Duration::from_millis(300)));
    }
}
