//! Mutations and actions sent over a sync socket. A session runs its mutations one at a time, in order, and
//! its actions side by side, while it goes on reading messages and pushing Transitions, as the backend's sync
//! worker does. A mutation is deduplicated by (session id, request id) from the moment it starts: its run is
//! on a task of its own, which commits it and keeps or drops its record whatever becomes of the socket.

use super::auth::Caller;
use super::live_query::encode_ts;
use super::lock;
use super::outcome::{Ran, Threw};
use super::path::FunctionPath;
use super::server::execute;
use super::shared::Shared;
use convex_fetch::FunctionKind;
use convex_fetch::value::Value as ConvexValue;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use std::sync::Arc;

/// What a request message asks for, once parsed.
pub(crate) struct Request {
    pub(crate) request_id: u32,
    pub(crate) kind: FunctionKind,
    pub(crate) path: FunctionPath,
    pub(crate) args: Result<ConvexValue, String>,
    pub(crate) caller: Caller,
    /// The session's id, for a mutation: its deduplication key with the request id.
    pub(crate) session_id: Option<String>,
}

/// A request's response message, once it ran.
pub(crate) type Response = BoxFuture<'static, Value>;

/// Whether this request was already sent in this session (a re-send after a reconnect): it then joins the
/// first run instead of starting one, and is not recorded again.
pub(crate) fn is_resent(shared: &Shared, request: &Request) -> bool {
    request.kind == FunctionKind::Mutation
        && request.session_id.as_ref().is_some_and(|session| {
            lock(&shared.live.done).contains_key(&(session.clone(), request.request_id))
        })
}

/// The response of `request`: it runs when first polled (a mutation joins its earlier run, if any).
pub(crate) fn respond(shared: &Arc<Shared>, request: Request) -> Response {
    let Request {
        request_id,
        kind,
        path,
        args,
        caller,
        session_id,
    } = request;
    let mutation = kind == FunctionKind::Mutation;
    let shared = shared.clone();
    async move {
        let outcome = match session_id.filter(|_| mutation) {
            Some(session) => {
                let key = (session, request_id);
                let run = {
                    let mut done = lock(&shared.live.done);
                    done.entry(key.clone())
                        .or_insert_with(|| run_once(shared.clone(), key, path, args, caller))
                        .clone()
                };
                run.await
            }
            None => execute(&shared, &path, Some(kind), args, caller).await,
        };
        response(mutation, request_id, outcome)
    }
    .boxed()
}

/// The one run of a deduplicated mutation: on its own task, which records the outcome (a failure removes
/// the record, as the backend keeps only successes) whether or not a session still awaits it.
fn run_once(
    shared: Arc<Shared>,
    key: (String, u32),
    path: FunctionPath,
    args: Result<ConvexValue, String>,
    caller: Caller,
) -> super::live_state::SessionRequest {
    async move {
        let errors = shared.clone();
        let task = tokio::spawn(async move {
            let outcome = execute(&shared, &path, Some(FunctionKind::Mutation), args, caller).await;
            if outcome.is_err() {
                lock(&shared.live.done).remove(&key);
            }
            outcome
        });
        // The task only ends early when the runtime shuts down.
        task.await.unwrap_or_else(|_| {
            Err(Threw {
                message: errors.error_message("Uncaught Error: the mutation was cancelled"),
                data: None,
                log_lines: Vec::new(),
            })
        })
    }
    .boxed()
    .shared()
}

/// The `MutationResponse` or `ActionResponse` of an outcome; a mutation's `ts` is its own commit's, `null`
/// when it failed.
fn response(mutation: bool, request_id: u32, outcome: Result<Ran, Threw>) -> Value {
    let response_type = if mutation {
        "MutationResponse"
    } else {
        "ActionResponse"
    };
    let (mut response, ts) = match outcome {
        Ok(Ran {
            value,
            log_lines,
            ts,
        }) => (
            json!({
                "type": response_type, "requestId": request_id, "success": true,
                "result": value, "logLines": log_lines,
            }),
            ts,
        ),
        Err(Threw {
            message,
            data,
            log_lines,
        }) => {
            let mut response = json!({
                "type": response_type, "requestId": request_id, "success": false,
                "result": message, "logLines": log_lines,
            });
            if let Some(data) = data {
                response["errorData"] = data;
            }
            (response, None)
        }
    };
    if mutation {
        response["ts"] = json!(ts.map(encode_ts));
    }
    response
}

/// The response to a request whose path does not parse: it fails without running.
pub(crate) fn invalid_path(shared: &Shared, mutation: bool, request_id: u32, text: &str) -> Value {
    response(
        mutation,
        request_id,
        Err(Threw {
            message: shared.error_message(&format!(
                "Uncaught Error: {text} is not a valid path to a Convex function."
            )),
            data: None,
            log_lines: Vec::new(),
        }),
    )
}
