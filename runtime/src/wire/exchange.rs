//! One HTTP exchange with the deployment: a POST, and its answer read up to the client's size limit.

use super::request::Request;
use crate::client::Client;
use crate::error::{Error, ErrorKind, FunctionName};
use bytes::{Bytes, BytesMut};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER};
use std::time::Duration;

/// The `Convex-Client` header: `{client name}-{semver}`, as the backend expects. Static, like the content
/// type: built once at compile time rather than parsed and copied for every request.
static CONVEX_CLIENT: HeaderName = HeaderName::from_static("convex-client");
static CONVEX_CLIENT_VALUE: HeaderValue =
    HeaderValue::from_static(concat!("rust-convex-fetch-", env!("CARGO_PKG_VERSION")));
static APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

/// An answer, whatever its status.
pub(super) struct Answer {
    pub(super) status: StatusCode,
    pub(super) body: Bytes,
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
    let http = client.reqwest();
    let builder = match client.function_url(request.endpoint) {
        Some(url) => http.post(url.clone()),
        None => http.post(format!("{}{}", client.full_url(), request.endpoint)),
    };
    // The body is shared, not copied, by each attempt.
    let mut builder = builder
        .header(CONTENT_TYPE, APPLICATION_JSON.clone())
        .header(&CONVEX_CLIENT, CONVEX_CLIENT_VALUE.clone())
        .body(request.body.clone());
    if let Some(authorization) = authorization {
        builder = builder.header(AUTHORIZATION, authorization.clone());
    }
    let mut response = builder.send().await.map_err(|e| transport(function, e))?;
    let status = response.status();
    let retry_after = retry_after(response.headers());
    let limit = client.max_response_bytes();
    let too_large = |read: &[u8]| {
        Error::call(
            function,
            ErrorKind::Decode {
                message: format!(
                    "the response is larger than the limit of {limit} bytes (raise it with `max_response_bytes`)"
                ),
                excerpt: super::excerpt(read),
            },
        )
    };
    // Most answers arrive in one chunk, which becomes the body as it is, without a copy.
    let capacity = response.content_length().unwrap_or(0);
    let Some(first) = response.chunk().await.map_err(|e| transport(function, e))? else {
        return Ok(Answer {
            status,
            body: Bytes::new(),
            retry_after,
        });
    };
    if first.len() > limit {
        return Err(too_large(&[]));
    }
    let Some(second) = response.chunk().await.map_err(|e| transport(function, e))? else {
        return Ok(Answer {
            status,
            body: first,
            retry_after,
        });
    };
    // The declared length sizes the buffer (within the limit), so it is not grown chunk by chunk.
    let capacity = usize::try_from(capacity).unwrap_or(usize::MAX).min(limit);
    let mut body = BytesMut::with_capacity(capacity.max(first.len() + second.len()));
    body.extend_from_slice(&first);
    let mut next = Some(second);
    while let Some(chunk) = next {
        if body.len() + chunk.len() > limit {
            return Err(too_large(&body));
        }
        body.extend_from_slice(&chunk);
        next = response.chunk().await.map_err(|e| transport(function, e))?;
    }
    Ok(Answer {
        status,
        body: body.freeze(),
        retry_after,
    })
}

fn transport(function: &FunctionName, error: reqwest::Error) -> Error {
    Error::call(function, transport_failure(error))
}

/// A failure of the HTTP stack, of a function call or a plain HTTP request.
pub(crate) fn transport_failure(error: reqwest::Error) -> ErrorKind {
    // Only a failed connect proves the request never left; anything later may have reached the deployment.
    let sent = !error.is_connect();
    // The URL may carry credentials (`user:pass@`, a signed URL's token); the call named in the message says
    // enough.
    let error = error.without_url();
    ErrorKind::Transport {
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

fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
