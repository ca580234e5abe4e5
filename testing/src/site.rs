//! HTTP actions: handlers on a method and a path (or a path prefix), served under `/http` as a self-hosted
//! backend serves them on its main port.

use super::auth::{Auth, authenticate};
use super::lock;
use super::server::Shared;
use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The largest request body an HTTP action reads; Convex's own limit is 20 MiB.
const MAX_BODY_BYTES: usize = 20 * 1024 * 1024;

/// Where the deployment serves HTTP actions on its own port: the site URL is the deployment URL followed by
/// this, as a self-hosted backend's site proxy forwards to it.
pub(crate) const SITE_PREFIX: &str = "/http";

/// A request to an HTTP action, as its handler sees it.
#[derive(Clone)]
pub struct HttpActionRequest {
    method: String,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
    identity: Option<serde_json::Value>,
}

impl HttpActionRequest {
    /// The method: `GET`, `POST`, …
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The path on the site URL (`/files/a.txt`), without the query string.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The first value of the query parameter `name`, percent-decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        let query = self.query.as_deref()?;
        let url = reqwest::Url::parse(&format!("http://site/?{query}")).ok()?;
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }

    /// The first value of the header `name`, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body as JSON, as `request.json()` reads it.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// The caller's identity, as `ctx.auth.getUserIdentity()` gives it: the identity registered for the
    /// bearer token, or the one an admin acts as. `None` without a known credential.
    pub fn identity(&self) -> Option<&serde_json::Value> {
        self.identity.as_ref()
    }
}

impl fmt::Debug for HttpActionRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpActionRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("body_bytes", &self.body.len())
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

/// One request to the site URL, as the deployment received it, whether or not a route matched.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RecordedHttpRequest {
    /// The method.
    pub method: String,
    /// The path on the site URL, without the query string.
    pub path: String,
    /// The query string, as sent (percent-encoded), if any.
    pub query: Option<String>,
    /// The headers but `Authorization`, whose credential is in `auth`.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// How the request authenticated.
    pub auth: Auth,
}

type Handler =
    Arc<dyn Fn(HttpActionRequest) -> Pin<Box<dyn Future<Output = Response> + Send>> + Send + Sync>;

/// The registered routes: exact paths, and prefixes ending in `/`.
#[derive(Default, Clone)]
pub(crate) struct Routes {
    exact: HashMap<(String, String), Handler>,
    prefixes: Vec<(String, String, Handler)>,
}

impl Routes {
    pub(crate) fn add<F, Fut, R>(&mut self, method: &str, path: &str, handler: F)
    where
        F: Fn(HttpActionRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        let method = method.to_ascii_uppercase();
        assert!(
            path.starts_with('/'),
            "the HTTP route `{path}` must start with `/`"
        );
        let handler: Handler = Arc::new(move |request| {
            let running = handler(request);
            Box::pin(async move { running.await.into_response() })
        });
        if path.ends_with('/') {
            self.prefixes
                .retain(|(m, p, _)| !(m == &method && p == path));
            self.prefixes.push((method, path.to_owned(), handler));
        } else {
            self.exact.insert((method, path.to_owned()), handler);
        }
    }

    /// The handler of `method` and `path`: an exact route first, then the longest matching prefix, as
    /// Convex's `httpRouter` looks them up.
    fn find(&self, method: &str, path: &str) -> Option<&Handler> {
        if let Some(handler) = self.exact.get(&(method.to_owned(), path.to_owned())) {
            return Some(handler);
        }
        self.prefixes
            .iter()
            .filter(|(m, prefix, _)| m == method && path.starts_with(prefix.as_str()))
            .max_by_key(|(_, prefix, _)| prefix.len())
            .map(|(_, _, handler)| handler)
    }
}

impl fmt::Debug for Routes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut routes: Vec<String> = self
            .exact
            .keys()
            .map(|(m, p)| format!("{m} {p}"))
            .chain(self.prefixes.iter().map(|(m, p, _)| format!("{m} {p}*")))
            .collect();
        routes.sort();
        f.debug_list().entries(routes).finish()
    }
}

/// Serves a request under [`SITE_PREFIX`]: finds the route, records the request and runs the handler.
pub(crate) async fn handle(shared: &Shared, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts
        .uri
        .path()
        .strip_prefix(SITE_PREFIX)
        .filter(|rest| !rest.is_empty())
        .unwrap_or("/")
        .to_owned();
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(_) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large",
            )
                .into_response();
        }
    };
    let (auth, caller) = authenticate(
        parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .map(|v| v.as_bytes()),
        &shared.admin_key,
        &shared.tokens,
    );
    let method = parts.method.as_str().to_owned();
    lock(&shared.recorder).record_http(RecordedHttpRequest {
        method: method.clone(),
        path: path.clone(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .filter(|(name, _)| *name != axum::http::header::AUTHORIZATION)
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
        auth,
    });
    let Some(handler) = shared.routes.find(&method, &path) else {
        // What a deployment answers for a path no route matches.
        return (StatusCode::NOT_FOUND, "No matching routes found").into_response();
    };
    let request = HttpActionRequest {
        method,
        path,
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
        identity: caller.ok().and_then(|caller| caller.identity),
    };
    // On its own task, as a function runs: a panic is a 500, not a dropped connection.
    match tokio::spawn(handler(request)).await {
        Ok(response) => response,
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the HTTP action's handler panicked",
        )
            .into_response(),
    }
}
