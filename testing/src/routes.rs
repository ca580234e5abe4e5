//! The HTTP actions' routes (exact paths and prefixes), the request a handler sees, and the request the
//! deployment records; `site.rs` serves them.

use super::auth::Auth;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A request to an HTTP action, as its handler sees it.
#[derive(Clone)]
pub struct HttpActionRequest {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) identity: Option<serde_json::Value>,
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

pub(crate) type Handler =
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
    pub(crate) fn find(&self, method: &str, path: &str) -> Option<&Handler> {
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
