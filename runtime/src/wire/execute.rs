//! The retry loop: a request sent until it succeeds, the retry policy gives up or the deadline passes.

use super::exchange::{self, Answer};
use super::request::Request;
use super::response::{self, excerpt};
use crate::client::Client;
use crate::error::{Error, FunctionName};
use crate::options::FetchOptions;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tracing::Instrument;

/// Calls a function and decodes its result, with the verbose output the call's options ask for.
pub(crate) async fn call<O: DeserializeOwned>(
    client: &Client,
    request: Request,
    options: FetchOptions,
) -> Result<O, Error> {
    let options = crate::caller::call_options(client, options);
    let verbose = options.is_verbose();
    if verbose {
        verbose_start(&request, options.has_auth());
    }
    let result = send(client, &request, &options, |body| {
        response::function_result::<O>(&request.function, body, verbose)
    })
    .await;
    if verbose {
        verbose_end(&request.function, &result);
    }
    result.map(|(value, _)| value)
}

/// The deployment's latest timestamp (`POST /api/query_ts`), as JSON text to be sent back verbatim.
pub(crate) async fn query_ts(client: &Client) -> Result<Arc<str>, Error> {
    let request = Request::query_ts();
    send(client, &request, client.defaults(), |body| {
        response::timestamp(&request.function, body)
    })
    .await
}

/// Sends `request` as the client's retry policy allows within the timeout of `options` (complete: the
/// client's defaults already applied), and reads a successful answer's body with `read`.
async fn send<T>(
    client: &Client,
    request: &Request,
    options: &FetchOptions,
    read: impl Fn(&[u8]) -> Result<T, Error>,
) -> Result<T, Error> {
    let function = &request.function;
    let span =
        tracing::debug_span!("convex_call", kind = %function.kind, function = %function.path);
    let started = Instant::now();
    let timeout = options.timeout_setting().unwrap_or(crate::DEFAULT_TIMEOUT);
    // Whether any attempt started sending: a call that timed out before did not run.
    let sent = AtomicBool::new(false);
    let outcome = async {
        let authorization = options.authorization()?;
        with_retries(client, function, timeout, &sent, || async {
            // Held until the answer is read; a wait for it counts against the deadline.
            let _slots = client.in_flight().take(function.kind).await;
            sent.store(true, Ordering::Relaxed);
            let answer = exchange::post(client, request, authorization.as_ref())
                .await
                .map_err(|e| (e, None))?;
            let Answer {
                body, retry_after, ..
            } = &answer;
            response::classify(request, &answer).map_err(|e| (e, *retry_after))?;
            read(body).map_err(|e| (e, None))
        })
        .await
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
type Failure = (Error, Option<Duration>);

/// Runs `attempt` until it succeeds, the retry policy gives up, or `timeout` has elapsed.
async fn with_retries<T, Fut>(
    client: &Client,
    function: &FunctionName,
    timeout: Duration,
    sent: &AtomicBool,
    mut attempt: impl FnMut() -> Fut,
) -> Result<T, Error>
where
    Fut: std::future::Future<Output = Result<T, Failure>>,
{
    // A timeout too long to add to an instant (`Duration::MAX` for "no limit") waits as long as Tokio can.
    let deadline = Instant::now() + timeout.min(FOREVER);
    let attempts = async {
        // A client ordering its mutations holds the turn for the whole call, retries included.
        let _turn = client.in_flight().take_turn(function.kind).await;
        let mut number = 1;
        loop {
            let (error, retry_after) = match attempt().await {
                Ok(success) => return Ok(success),
                Err(failure) => failure,
            };
            let Some(delay) =
                client
                    .retry()
                    .delay_after(function.kind, number, &error, retry_after)
            else {
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
            sent: sent.load(Ordering::Relaxed),
        }),
    }
}

/// The longest a call waits: 30 years, Tokio's own far future.
const FOREVER: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);

fn verbose_start(request: &Request, has_auth: bool) {
    let function = &request.function;
    eprintln!(
        "[{}] {}: Starting {{ args: {}, hasAuth: {has_auth} }}",
        function.kind.fetch_name(),
        function.path,
        excerpt(request.args_text())
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
