//! One HTTP exchange with the deployment: a POST, and its answer read up to the client's size limit.

use super::request::Request;
use crate::client::Client;
use crate::error::{Error, FunctionName};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use std::time::Duration;

/// The `Convex-Client` header: `{client name}-{semver}`, as the backend expects.
const CONVEX_CLIENT: &str = concat!("rust-convex-fetch-", env!("CARGO_PKG_VERSION"));

/// An answer, whatever its status.
pub(super) struct Answer {
    pub(super) status: StatusCode,
    pub(super) body: Vec<u8>,
    /// The wait the server asked for with `Retry-After` (in seconds; an HTTP date is ignored).
    pub(super) retry_after: Option<Duration>,
}

/// Sends `request` once and reads the whole answer, or fails with a transport error (or a decode error for a
/// body over the size limit).
pub(super) async fn post(
    client: &Client,
    request: &Request,
    authorization: Option<&HeaderValue>,
) -> Result<Answer, Error> {
    let function = &request.function;
    let mut builder = client
        .reqwest()
        .post(format!("{}{}", client.url(), request.endpoint))
        .header(CONTENT_TYPE, "application/json")
        .header("Convex-Client", CONVEX_CLIENT)
        .body(request.body.clone());
    if let Some(authorization) = authorization {
        builder = builder.header(AUTHORIZATION, authorization.clone());
    }
    let mut response = builder.send().await.map_err(|e| transport(function, e))?;
    let status = response.status();
    let retry_after = retry_after(response.headers());
    let limit = client.max_response_bytes();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport(function, e))? {
        if body.len() + chunk.len() > limit {
            return Err(Error::Decode {
                function: function.clone(),
                message: format!(
                    "the response is larger than the limit of {limit} bytes (raise it with `max_response_bytes`)"
                ),
                excerpt: super::excerpt(&body),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer {
        status,
        body,
        retry_after,
    })
}

fn transport(function: &FunctionName, error: reqwest::Error) -> Error {
    // Only a failed connect proves the request never left; anything later may have reached the deployment.
    let sent = !error.is_connect();
    // The URL may carry credentials (`user:pass@`); the function named in the message says enough.
    let error = error.without_url();
    Error::Transport {
        function: function.clone(),
        message: error_chain(&error),
        sent,
        source: Some(Box::new(error)),
    }
}

/// The error and its causes on one line: reqwest's own message alone is often just "error sending request".
/// The wait a `Retry-After` header asks for, in the seconds form deployments send.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
