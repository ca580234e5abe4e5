//! The HTTP service: latency and faults around each request, running handlers, and answering in Convex's
//! shapes.

use super::auth::Caller;
use super::conn::Connection;
use super::ctx::Ctx;
use super::fault::{Fault, arrive, truncated_body};
use super::lock;
use super::outcome::{Ran, Threw};
use super::path::FunctionPath;
use super::request::{CallRequest, Prepared, prepare};
use super::shared::Shared;
use super::site;
use super::storage::{self};
use super::system_error::SystemError;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use convex_fetch::FunctionKind;
use convex_fetch::value::Value as ConvexValue;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// The largest request body read; Convex itself limits args to 16 MiB.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// The stack line a thrown error carries: the test deployment's handlers are Rust, so it names the module's
/// file as the backend would, at line 1.
fn stack_line(path: &str) -> String {
    let module = path.split(':').next().unwrap_or(path);
    format!("    at handler (../convex/{module}.ts:1:1)")
}

/// An answer before it becomes a response: kept as bytes so that a fault can cut it.
struct Answer {
    status: StatusCode,
    content_type: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn json(status: StatusCode, body: &impl Serialize) -> Answer {
        // Serializing a tree of JSON values cannot fail.
        let body = serde_json::to_vec(body).unwrap_or_default();
        Answer {
            status,
            content_type: "application/json".to_owned(),
            headers: Vec::new(),
            body,
        }
    }

    fn system(error: SystemError) -> Answer {
        let status =
            StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Answer::json(
            status,
            &serde_json::json!({ "code": error.code, "message": error.message }),
        )
    }

    /// `{"status":"success","value":…,"logLines":[…]}`, `logLines` omitted when empty.
    fn success(value: Value, log_lines: Vec<String>) -> Answer {
        Answer::json(
            StatusCode::OK,
            &FunctionAnswer {
                status: "success",
                value: Some(value),
                error_message: None,
                error_data: None,
                log_lines,
            },
        )
    }

    /// `{"status":"error","errorMessage":…,"errorData"?:…,"logLines"?:[…]}` with HTTP 200.
    fn failure(message: String, data: Option<Value>, log_lines: Vec<String>) -> Answer {
        Answer::json(
            StatusCode::OK,
            &FunctionAnswer {
                status: "error",
                value: None,
                error_message: Some(message),
                error_data: data,
                log_lines,
            },
        )
    }

    fn from_fault(
        status: u16,
        body: &str,
        content_type: &str,
        headers: &[(String, String)],
    ) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            content_type: content_type.to_owned(),
            headers: headers.to_vec(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn into_response(self) -> Response {
        let (mut response, headers) = self.split(Body::from);
        response.headers_mut().extend(headers);
        response
    }

    /// The answer with its full `Content-Length` but half its body.
    fn into_truncated_response(self) -> Response {
        let length = self.body.len();
        let (mut response, headers) = self.split(truncated_body);
        response.headers_mut().extend(headers);
        response
            .headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(length));
        response
    }

    fn split(self, body: impl FnOnce(Vec<u8>) -> Body) -> (Response, HeaderMap) {
        let mut response = Response::new(body(self.body));
        *response.status_mut() = self.status;
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(&self.content_type) {
            headers.insert(CONTENT_TYPE, value);
        }
        for (name, value) in &self.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.append(name, value);
            }
        }
        (response, headers)
    }
}

/// The body of a function's answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FunctionAnswer {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_data: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    log_lines: Vec<String>,
}

/// Serves every request: applies latency and faults around reading and running it.
pub(crate) async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (connection, fault) = arrive(request.extensions(), &shared.faults, &shared.latency).await;
    let path = request.uri().path();
    let is_site = path == site::SITE_PREFIX || path.starts_with(&format!("{}/", site::SITE_PREFIX));
    if is_site || storage::serves(path) {
        if let Some(fault) = fault.as_ref().filter(|fault| fault.before_run()) {
            return before_run(fault, connection.as_ref());
        }
        let response = if is_site {
            site::handle(&shared, request).await
        } else {
            storage::handle(&shared.files, request).await
        };
        return match fault {
            Some(Fault::DropAfterRun) => drop_connection(connection.as_ref()),
            Some(Fault::TruncatedBody) => truncate(response).await,
            _ => response,
        };
    }
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|e| SystemError::bad_body(format!("Failed to read the request body: {e}")));
    let prepared = prepare(
        &shared,
        &parts.method,
        parts.uri.path(),
        &parts.headers,
        body.as_deref(),
    );
    if let Some(fault) = fault.as_ref().filter(|fault| fault.before_run()) {
        return before_run(fault, connection.as_ref());
    }
    let answer = match prepared {
        Err(error) => Answer::system(error),
        Ok(Prepared::QueryTs) => {
            let ts = shared.advance_ts();
            let ts = base64::engine::general_purpose::STANDARD.encode(ts.to_le_bytes());
            Answer::json(StatusCode::OK, &serde_json::json!({ "ts": ts }))
        }
        Ok(Prepared::Call(call)) => run(&shared, call).await,
    };
    match fault {
        Some(Fault::DropAfterRun) => drop_connection(connection.as_ref()),
        Some(Fault::TruncatedBody) => answer.into_truncated_response(),
        _ => answer.into_response(),
    }
}

/// The answer of a fault that strikes before anything runs.
fn before_run(fault: &Fault, connection: Option<&Connection>) -> Response {
    match fault {
        Fault::Status {
            status,
            body,
            content_type,
            headers,
        } => Answer::from_fault(*status, body, content_type, headers).into_response(),
        _ => drop_connection(connection),
    }
}

/// A response with its full `Content-Length` but half its body.
async fn truncate(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .unwrap_or_default();
    let length = body.len();
    let mut response = Response::from_parts(parts, truncated_body(body.to_vec()));
    response
        .headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from(length));
    response
}

/// Kills the connection: the response returned here is never written.
fn drop_connection(connection: Option<&Connection>) -> Response {
    match connection {
        Some(connection) => {
            connection.kill();
            Answer::system(SystemError::new(500, "ConnectionDropped", "")).into_response()
        }
        None => Answer::system(SystemError::new(
            500,
            "TestDeploymentError",
            "the test deployment could not drop this connection",
        ))
        .into_response(),
    }
}

fn kind_name(kind: FunctionKind) -> &'static str {
    match kind {
        FunctionKind::Query => "Query",
        FunctionKind::Mutation => "Mutation",
        FunctionKind::Action => "Action",
    }
}

/// Finds the function and runs it, answering as Convex does.
async fn run(shared: &Arc<Shared>, call: CallRequest) -> Answer {
    let CallRequest {
        path,
        endpoint_kind,
        args,
        format,
        caller,
    } = call;
    match execute(shared, &path, endpoint_kind, args, caller).await {
        Ok(Ran {
            value, log_lines, ..
        }) => Answer::success(format.apply(value), log_lines),
        Err(Threw {
            message,
            data,
            log_lines,
        }) => Answer::failure(message, data.map(|data| format.apply(data)), log_lines),
    }
}

impl Shared {
    fn threw(&self, text: &str, data: Option<Value>, log_lines: Vec<String>) -> Threw {
        Threw {
            message: self.error_message(text),
            data,
            log_lines,
        }
    }
}

/// Finds the function and runs it as `caller`, over HTTP or the sync socket alike. A mutation commits when
/// its handler returns: the deployment's timestamp moves then (not before the handler runs, so that a
/// mutation still running cannot hold a timestamp older than a commit made meanwhile), and every session
/// re-runs its queries at it.
pub(crate) async fn execute(
    shared: &Arc<Shared>,
    path: &FunctionPath,
    endpoint_kind: Option<FunctionKind>,
    args: Result<ConvexValue, String>,
    caller: Caller,
) -> Result<Ran, Threw> {
    if let (Some(_), Some(kind)) = (&shared.upstream, endpoint_kind) {
        return forward(shared, path, kind, args, caller).await;
    }
    let canonical = path.canonical();
    let registered = shared
        .functions
        .get(&canonical)
        .filter(|function| !function.internal || caller.admin);
    let Some(registered) = registered else {
        return Err(shared.threw(
            &format!("Could not find public function for '{canonical}'."),
            None,
            Vec::new(),
        ));
    };
    if let Some(kind) = endpoint_kind.filter(|kind| *kind != registered.kind) {
        return Err(shared.threw(
            &format!(
                "Trying to execute {} as {}, but it is defined as {}.",
                path.with_js(),
                kind_name(kind),
                kind_name(registered.kind)
            ),
            None,
            Vec::new(),
        ));
    }
    let args = match args {
        Ok(args) => args,
        Err(message) => return Err(shared.threw(&message, None, Vec::new())),
    };
    let ctx = Ctx::new(
        canonical.clone(),
        registered.kind,
        caller.identity,
        caller.admin,
        shared.states.clone(),
    );
    let running = match (registered.handler)(ctx.clone(), &args) {
        Ok(running) => running,
        Err(message) => {
            return Err(shared.threw(
                &format!("ArgumentValidationError: {message}\n\nObject: {args}"),
                None,
                Vec::new(),
            ));
        }
    };
    lock(&shared.recorder).executed(&canonical);
    let mutation = registered.kind == FunctionKind::Mutation;
    // On its own task: a panicking handler fails its call instead of the connection, and a handler keeps
    // running when its caller disconnects, as a function on a deployment does; so does its commit, on the
    // task that awaits it. A failed mutation commits too: a handler's writes to the deployment's state are
    // not rolled back, so live queries must see them.
    let handler = tokio::spawn(running);
    let committing = shared.clone();
    let finished = tokio::spawn(async move {
        let outcome = handler.await;
        let ts = mutation.then(|| committing.commit());
        (outcome, ts)
    })
    .await;
    let (outcome, ts) = match finished {
        Ok(finished) => finished,
        Err(join_error) => (Err(join_error), None),
    };
    let log_lines = ctx.log_lines();
    match outcome {
        Ok(Ok(value)) => match value.to_json() {
            Ok(json) => Ok(Ran {
                value: json,
                log_lines,
                ts,
            }),
            Err(e) => Err(shared.threw(
                &format!(
                    "Uncaught Error: the handler's return value could not be encoded for Convex: {e}\n{}",
                    stack_line(&canonical)
                ),
                None,
                log_lines,
            )),
        },
        Ok(Err(error)) => Err(shared.threw(
            &format!(
                "Uncaught {}: {}\n{}",
                error.name(),
                error.error_message(),
                stack_line(&canonical)
            ),
            // Data that does not encode cannot be made by `FunctionError::convex`, which checks it.
            error.data().and_then(|data| data.to_json().ok()),
            log_lines,
        )),
        Err(join_error) => {
            let message = match join_error.try_into_panic() {
                Ok(panic) => panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".to_owned()),
                Err(_) => "cancelled".to_owned(),
            };
            Err(shared.threw(
                &format!(
                    "Uncaught Error: the handler of {canonical} panicked: {message}\n{}",
                    stack_line(&canonical)
                ),
                None,
                log_lines,
            ))
        }
    }
}

/// Runs the function on the deployment behind this front (the JS deployment's Node server). A mutation
/// commits once answered, and so does an action, whose own mutations this front does not see; on the task
/// that awaits the answer, as in [`execute`].
async fn forward(
    shared: &Arc<Shared>,
    path: &FunctionPath,
    kind: FunctionKind,
    args: Result<ConvexValue, String>,
    caller: Caller,
) -> Result<Ran, Threw> {
    let args = match args {
        Ok(args) => args,
        Err(message) => return Err(shared.threw(&message, None, Vec::new())),
    };
    let committing = shared.clone();
    let path = path.clone();
    let finished = tokio::spawn(async move {
        let Some(upstream) = &committing.upstream else {
            return Err("no deployment to forward to".to_owned());
        };
        let outcome =
            super::upstream::run(upstream, &path, kind, args, &caller, &committing.admin_key).await;
        let ts = (kind != FunctionKind::Query).then(|| committing.commit());
        outcome.map(|outcome| match (outcome, kind) {
            (Ok(ran), FunctionKind::Mutation) => Ok(Ran { ts, ..ran }),
            (outcome, _) => outcome,
        })
    })
    .await;
    match finished {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(refusal)) => Err(shared.threw(&refusal, None, Vec::new())),
        Err(_) => Err(shared.threw("the call was cancelled", None, Vec::new())),
    }
}
