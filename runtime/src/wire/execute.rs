//! A call on the wire: its request through the attempt loop (`attempts`), with a call's rules, its tracing and
//! its verbose output.

use super::exchange::{self, Answer};
use super::request::Request;
use super::response::{self, excerpt};
use crate::attempts::{self, Rules, Tried};
use crate::client::Client;
use crate::error::{Error, ErrorKind, FunctionName};
use crate::function::FunctionKind;
use crate::options::FetchOptions;
use crate::retry;
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
    let rules = Rules {
        request: attempts::Request::Call,
        idempotent: function.kind == FunctionKind::Query,
        body_again: true,
        slot: Some(function.kind),
    };
    let outcome = async {
        let authorization = options.authorization()?;
        let attempt = || async {
            let answer = match exchange::post(client, request, authorization.as_ref()).await {
                Ok(answer) => answer,
                Err(error) => return failed(error, None),
            };
            let Answer {
                body, retry_after, ..
            } = &answer;
            if let Err(error) = response::classify(request, &answer) {
                return failed(error, *retry_after);
            }
            Tried::done(read(body))
        };
        let timed_out = || {
            let sent = sent.load(Ordering::Relaxed);
            Error::call(
                function,
                ErrorKind::Timeout {
                    after: timeout,
                    sent,
                },
            )
        };
        rules
            .run(
                client,
                attempts::deadline(timeout),
                &sent,
                attempt,
                timed_out,
            )
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

/// A failed attempt of a call, judged by the error alone (and the server's `Retry-After`).
fn failed<T>(error: Error, retry_after: Option<Duration>) -> Tried<T> {
    Tried {
        transient: retry::transient(&error),
        not_run: error.provably_not_run(),
        retry_after,
        outcome: Err(error),
    }
}

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
