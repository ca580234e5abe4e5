//! Running a function on another deployment: the sync sessions in front of the JS deployment send each
//! query, mutation and action to its Node server over the HTTP API, with the session's credential, and read
//! the answer back as the function's outcome.

use super::auth::Caller;
use super::outcome::{Ran, Threw};
use super::path::FunctionPath;
use super::shared::Upstream;
use convex_fetch::FunctionKind;
use convex_fetch::value::Value as ConvexValue;
use serde_json::{Value, json};

/// Why a forwarded call has no function outcome: the text of a system error.
pub(crate) type Refusal = String;

/// Runs the function at `path` on `upstream` as `caller` (an admin credential standing for `admin_key`):
/// its outcome, or why the deployment gave none.
pub(crate) async fn run(
    upstream: &Upstream,
    path: &FunctionPath,
    kind: FunctionKind,
    args: ConvexValue,
    caller: &Caller,
    admin_key: &str,
) -> Result<Result<Ran, Threw>, Refusal> {
    let endpoint = match kind {
        FunctionKind::Query => "query",
        FunctionKind::Mutation => "mutation",
        FunctionKind::Action => "action",
    };
    let args = args
        .to_json()
        .map_err(|e| format!("the args could not be encoded: {e}"))?;
    let body = json!({ "path": path.canonical(), "args": args, "format": "convex_encoded_json" });
    let mut request = upstream
        .http
        .post(format!("{}/api/{endpoint}", upstream.url))
        .header("Content-Type", "application/json")
        .body(body.to_string());
    if let Some(header) = caller
        .credential
        .as_ref()
        .and_then(|auth| auth.header(admin_key))
    {
        request = request.header("Authorization", header);
    }
    let answer = request
        .send()
        .await
        .map_err(|e| format!("the Node server did not answer: {e}"))?;
    let status = answer.status();
    let bytes = answer
        .bytes()
        .await
        .map_err(|e| format!("the Node server's answer was cut: {e}"))?;
    let body: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("the Node server's answer is not JSON: {e}"))?;
    match body["status"].as_str() {
        Some("success") => Ok(Ok(Ran {
            value: body["value"].clone(),
            log_lines: log_lines(&body),
            ts: None,
        })),
        Some("error") => Ok(Err(Threw {
            message: body["errorMessage"].as_str().unwrap_or_default().to_owned(),
            data: body.get("errorData").cloned(),
            log_lines: log_lines(&body),
        })),
        _ => Err(format!(
            "{status}: {} {}",
            body["code"].as_str().unwrap_or_default(),
            body["message"].as_str().unwrap_or_default()
        )),
    }
}

fn log_lines(body: &Value) -> Vec<String> {
    body["logLines"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|line| line.as_str().map(str::to_owned))
        .collect()
}
