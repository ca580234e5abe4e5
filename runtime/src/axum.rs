//! axum integration (feature `axum`): errors as responses, the caller's bearer token, its forwarding to every
//! call made while handling a request, and a shared-secret guard for cron and webhook routes.
//!
//! Each middleware is a [`Middleware`] layer, built by a function of this module and given to axum's
//! `.layer(…)` or `.route_layer(…)` as it is (`.layer(forward_auth())`); a [`SharedSecret`] is a layer
//! itself.
//!
//! The feature targets **axum 0.8** (`Router`, `IntoResponse` of axum 0.8.x); an app on axum 0.7 gets trait
//! errors (`Error: IntoResponse` not satisfied) from having two axum versions.
//!
//! ```no_run
//! use axum::{Json, Router, routing::get, routing::post};
//! use convex_fetch::axum::{SharedSecret, forward_auth};
//!
//! #[convex_fetch::query("tasks:mine")]
//! async fn my_tasks() -> Vec<String>;
//! #[convex_fetch::action("jobs:nightly")]
//! async fn nightly() -> ();
//!
//! // `?` turns a failed call into a response with a fitting status and a body that leaks nothing.
//! async fn tasks() -> Result<Json<Vec<String>>, convex_fetch::Error> {
//!     Ok(Json(my_tasks().await?)) // runs as the user whose bearer token came with the request
//! }
//!
//! async fn cron() -> Result<(), convex_fetch::Error> {
//!     nightly().await
//! }
//!
//! let app: Router = Router::new()
//!     .route("/tasks", get(tasks))
//!     .layer(forward_auth())
//!     .merge(
//!         Router::new()
//!             .route("/cron/nightly", post(cron))
//!             .route_layer(SharedSecret::cron("from-the-env")),
//!     );
//! ```

use crate::error::{Error, ErrorKind};
use crate::secret::Secret;
use crate::token::{CachedTokens, TokenError, TokenSource};
use axum::extract::{FromRequestParts, OptionalFromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{FromFn, FromFnLayer, Next};
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tower_layer::Layer;

/// The answer to give a client: the status from [`Error::status_code`] and a JSON body that never leaks
/// internals. A `ConvexError`'s data is meant for the caller and passes through, in Convex's clean JSON:
/// `{"error": text, "data": data}`, where `text` is the data itself when it is a string, its `message` field
/// when it has a string one (`new ConvexError({ code, message })`), and the status's reason otherwise. Any
/// other failure says only its status's reason (`{"error": "Bad Gateway"}`). The whole error (credentials
/// redacted, as always) goes to `tracing`: at `error` level for a 5xx, `debug` otherwise.
impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = %self, "a Convex call failed");
        } else {
            tracing::debug!(error = %self, "a Convex call failed");
        }
        let reason = status.canonical_reason().unwrap_or("Error");
        let body = match self.kind() {
            // In Convex's clean JSON, which any client reads: an int64 as its decimal string, bytes as base64.
            ErrorKind::Function {
                data: Some(data), ..
            } => {
                let text = data
                    .as_str()
                    .or_else(|| data.get("message").and_then(|m| m.as_str()))
                    .unwrap_or(reason);
                serde_json::json!({ "error": text, "data": data.to_clean_json() })
            }
            _ => serde_json::json!({ "error": reason }),
        };
        let mut response = json_response(status, &body);
        if self.is_argument_validation() {
            response.extensions_mut().insert(ArgumentsRefused);
        }
        response
    }
}

/// Marks the response of an [`Error`] whose arguments the deployment refused, for
/// [`invalid_arguments_are_ours`].
#[derive(Debug, Clone, Copy)]
struct ArgumentsRefused;

/// One of this module's middleware, as the layer axum's `.layer(…)` and `.route_layer(…)` take: built by
/// [`forward_auth`], [`forward_auth_to`], [`forward_session`], [`forward_session_to`], [`use_client`] and
/// [`invalid_arguments_are_ours`]. `St` is what it holds (a client, the token cache), `()` for none.
///
/// The middleware are layers rather than functions for `axum::middleware::from_fn` so that there is one way
/// to wire each, and so that a function given where a layer goes (`.layer(forward_auth)`) is answered by
/// rustc's "use parentheses to call this function".
#[derive(Clone)]
pub struct Middleware<St>(FromFnLayer<Run<St>, St, (State<St>, Request)>);

/// A middleware's body: what runs around the rest of the request's handling (`next`).
type Run<St> = fn(State<St>, Request, Next) -> Pin<Box<dyn Future<Output = Response> + Send>>;

impl<St: Clone + Send + Sync + 'static> Middleware<St> {
    fn new(state: St, run: Run<St>) -> Middleware<St> {
        Middleware(axum::middleware::from_fn_with_state(state, run))
    }
}

/// Names the middleware only: what it holds may be a credential.
impl<St> fmt::Debug for Middleware<St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Middleware").finish_non_exhaustive()
    }
}

impl<St: Clone, I> Layer<I> for Middleware<St> {
    type Service = FromFn<Run<St>, St, I, (State<St>, Request)>;

    fn layer(&self, inner: I) -> Self::Service {
        self.0.layer(inner)
    }
}

/// Middleware (`.layer(invalid_arguments_are_ours())`) for a service that builds the arguments of its calls
/// itself: a call refused by the deployment's argument validators ([`Error::is_argument_validation`]) is
/// answered 500 `{"error": "Internal Server Error"}` and logged at `error` level, as a bug of the service,
/// instead of the default 400 (see [`Error::status_code`]: by default the arguments are taken to be the
/// caller's input). Other responses pass through unchanged.
///
/// ```no_run
/// use axum::{Router, routing::get};
///
/// # async fn report() {}
/// let app: Router = Router::new()
///     .route("/report", get(report))
///     .layer(convex_fetch::axum::invalid_arguments_are_ours());
/// ```
pub fn invalid_arguments_are_ours() -> Middleware<()> {
    Middleware::new((), |_, request, next| {
        Box::pin(async move {
            let response = next.run(request).await;
            if response.extensions().get::<ArgumentsRefused>().is_none() {
                return response;
            }
            tracing::error!(
                "the deployment refused the arguments this service built for a Convex call"
            );
            let status = StatusCode::INTERNAL_SERVER_ERROR;
            let reason = status.canonical_reason().unwrap_or("Error");
            json_response(status, &serde_json::json!({ "error": reason }))
        })
    })
}

/// Middleware (`.layer(use_client(client))`) that runs each request in a [`with_client`](crate::with_client)
/// scope: the handlers' calls on the default client (stubs without `.on(…)`) go to `client`. Meant for tests,
/// where each test builds its app around its own deployment and runs in parallel with others, and for a
/// service of several deployments. A [`forward_auth`] scope inside or outside it sends the request's token to
/// this client's deployment.
///
/// ```no_run
/// use axum::{Router, routing::get};
/// use convex_fetch::axum::{forward_auth, use_client};
///
/// # async fn notes() {}
/// fn app(client: convex_fetch::Client) -> Router {
///     Router::new()
///         .route("/notes", get(notes))
///         .layer(forward_auth())
///         .layer(use_client(client))
/// }
/// ```
pub fn use_client(client: crate::Client) -> Middleware<crate::Client> {
    Middleware::new(client, |State(client), request, next| {
        Box::pin(crate::with_client(client, next.run(request)))
    })
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The bearer token of a request's `Authorization` header, as an extractor: the user's JWT, to pass on with
/// `.auth(token.expose())`. A request without one is refused with 401; take `Option<BearerToken>` where the
/// token is optional.
///
/// ```no_run
/// use convex_fetch::axum::BearerToken;
///
/// #[convex_fetch::mutation("tasks:create")]
/// async fn create_task(title: String) -> String;
///
/// async fn create(token: BearerToken, body: String) -> Result<String, convex_fetch::Error> {
///     create_task(body).auth(token.expose()).await
/// }
/// ```
#[derive(Debug, Clone)]
pub struct BearerToken(pub Secret);

/// A request's bearer token passed on as a call's credential: `.auth(token)` or `.auth(&token)`.
impl crate::secret::IntoCredential for BearerToken {
    fn into_credential(self) -> String {
        self.0.into_credential()
    }
}

impl crate::secret::IntoCredential for &BearerToken {
    fn into_credential(self) -> String {
        self.expose().to_owned()
    }
}

impl BearerToken {
    /// The token's text, for `.auth(…)`. Never log it.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// The token of `headers`' `Authorization: Bearer …` (the scheme in any case), if there is a non-empty one.
    pub fn from_headers(headers: &HeaderMap) -> Option<BearerToken> {
        let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        let token = token.trim();
        (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty())
            .then(|| BearerToken(Secret::new(token)))
    }
}

/// The refusal of a request without a bearer token: 401 with `WWW-Authenticate: Bearer`.
#[derive(Debug, Clone, Copy)]
pub struct MissingBearerToken;

impl IntoResponse for MissingBearerToken {
    fn into_response(self) -> Response {
        let mut response = json_response(
            StatusCode::UNAUTHORIZED,
            &serde_json::json!({ "error": "a bearer token is required" }),
        );
        response
            .headers_mut()
            .insert("www-authenticate", HeaderValue::from_static("Bearer"));
        response
    }
}

impl<S: Send + Sync> FromRequestParts<S> for BearerToken {
    type Rejection = MissingBearerToken;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        BearerToken::from_headers(&parts.headers).ok_or(MissingBearerToken)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for BearerToken {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(BearerToken::from_headers(&parts.headers))
    }
}

/// Middleware (`.layer(forward_auth())`) that runs each request that carries a bearer token
/// in a [`with_auth`](crate::with_auth) scope for the **default client's deployment**: every call its handler
/// makes to that deployment without a credential of its own or of its client runs as that user. Calls to
/// other deployments are not given the token; for a scope bound to another client, use [`forward_auth_to`].
/// A request without a token passes through unchanged, and its calls use the client's credential, if any.
pub fn forward_auth() -> Middleware<()> {
    Middleware::new((), |_, request, next| {
        Box::pin(forward_bearer(None, request, next))
    })
}

/// As [`forward_auth`], for the deployment of `client` (`.layer(forward_auth_to(client))`): the request's
/// bearer token goes only to calls to that client's deployment
/// ([`Client::with_auth`](crate::Client::with_auth)).
///
/// ```no_run
/// use axum::{Router, routing::get};
/// use convex_fetch::axum::forward_auth_to;
///
/// # async fn profile() {}
/// let client = convex_fetch::Client::new("https://happy-otter-123.convex.cloud")?;
/// let app: Router = Router::new()
///     .route("/api/user/profile", get(profile))
///     .layer(forward_auth_to(client));
/// # Ok::<(), convex_fetch::Error>(())
/// ```
pub fn forward_auth_to(client: crate::Client) -> Middleware<crate::Client> {
    Middleware::new(client, |State(client), request, next| {
        Box::pin(forward_bearer(Some(client), request, next))
    })
}

/// [`forward_auth`] and [`forward_auth_to`]: the rest of the request as the bearer token's user, if any.
async fn forward_bearer(client: Option<crate::Client>, request: Request, next: Next) -> Response {
    match BearerToken::from_headers(request.headers()) {
        Some(BearerToken(token)) => run_as(client, token.expose().to_owned(), request, next).await,
        None => next.run(request).await,
    }
}

/// Middleware for the authenticated-route pattern (`.route_layer(forward_session(tokens))`): the request's
/// session (for [`BetterAuth`](crate::token::BetterAuth), its session cookie) is exchanged for a JWT through
/// the cache, and the request runs in a [`with_auth`](crate::with_auth) scope with it, for the default
/// client's deployment (calls to other deployments are not given the token). A request without a session, or
/// whose session is refused, is answered 401 before its handler runs; a token endpoint that fails, 502.
/// `tokens` is the cache, or an `Arc` of a cache that other routes share.
///
/// ```no_run
/// use axum::{Router, routing::get};
/// use convex_fetch::axum::forward_session;
/// use convex_fetch::token::{BetterAuth, CachedTokens};
///
/// # async fn profile() {}
/// let tokens = CachedTokens::new(BetterAuth::new("https://happy-otter-123.convex.site")?);
/// let app: Router = Router::new()
///     .route("/api/user/profile", get(profile))
///     .route_layer(forward_session(tokens));
/// # Ok::<(), convex_fetch::Error>(())
/// ```
pub fn forward_session<S: TokenSource + 'static>(
    tokens: impl Into<Arc<CachedTokens<S>>>,
) -> Middleware<Arc<CachedTokens<S>>> {
    Middleware::new(tokens.into(), |State(tokens), request, next| {
        Box::pin(forward_session_token(None, tokens, request, next))
    })
}

/// As [`forward_session`], for the deployment of `client`
/// (`.route_layer(forward_session_to(client, tokens))`): the session's token goes only to calls to that
/// client's deployment.
pub fn forward_session_to<S: TokenSource + 'static>(
    client: crate::Client,
    tokens: impl Into<Arc<CachedTokens<S>>>,
) -> Middleware<(crate::Client, Arc<CachedTokens<S>>)> {
    Middleware::new(
        (client, tokens.into()),
        |State((client, tokens)), request, next| {
            Box::pin(forward_session_token(Some(client), tokens, request, next))
        },
    )
}

/// [`forward_session`] and [`forward_session_to`]: the rest of the request as the session's user, or the
/// answer refusing it.
async fn forward_session_token<S: TokenSource>(
    client: Option<crate::Client>,
    tokens: Arc<CachedTokens<S>>,
    request: Request,
    next: Next,
) -> Response {
    match session_token(&tokens, request.headers()).await {
        Ok(token) => run_as(client, token, request, next).await,
        Err(refusal) => refusal,
    }
}

/// Runs the rest of the request with `token` in scope for `client`'s deployment, or for the default
/// client's without one.
async fn run_as(
    client: Option<crate::Client>,
    token: String,
    request: Request,
    next: Next,
) -> Response {
    match client {
        Some(client) => client.with_auth(token, next.run(request)).await,
        None => crate::caller::with_auth(token, next.run(request)).await,
    }
}

/// The token of the request's session, or the answer refusing the request.
async fn session_token<S: TokenSource>(
    tokens: &CachedTokens<S>,
    headers: &HeaderMap,
) -> Result<String, Response> {
    let Some(session) = tokens.session_of(headers) else {
        return Err(json_response(
            StatusCode::UNAUTHORIZED,
            &serde_json::json!({ "error": "Unauthorized" }),
        ));
    };
    match tokens.token(&session).await {
        Ok(token) => Ok(token.expose().to_owned()),
        Err(error) => Err(error.into_response()),
    }
}

/// A refused session is 401, a failing token endpoint 502; the reason goes to `tracing`, not to the caller.
impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let status = match self {
            TokenError::Refused { .. } => StatusCode::UNAUTHORIZED,
            TokenError::Unavailable { .. } => StatusCode::BAD_GATEWAY,
        };
        if status.is_server_error() {
            tracing::error!(error = %self, "no Convex token for the request");
        } else {
            tracing::debug!(error = %self, "no Convex token for the request");
        }
        let reason = status.canonical_reason().unwrap_or("Error");
        json_response(status, &serde_json::json!({ "error": reason }))
    }
}

/// A shared secret a caller must present in a header, such as the scheduler of a cron route
/// (`x-cron-secret`) or a webhook sender without signatures. The header is compared in constant time; the
/// secret is redacted in `Debug`.
///
/// It is the middleware that guards a route: `.route_layer(SharedSecret::cron(secret))` refuses a request
/// without the secret with 401, before its handler runs.
#[derive(Debug, Clone)]
pub struct SharedSecret {
    header: HeaderName,
    secret: Secret,
}

/// The value of a [`SharedSecret`]: the secret configured for the route (`&str`, `String`, `Secret`, …),
/// never a caller's [`BearerToken`], which is a credential for `.auth(token)`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not the value of a shared secret",
    label = "expected the secret configured for this route (`&str`, `String` or `Secret`)",
    note = "a `SharedSecret` holds the value your cron scheduler or webhook sender is configured with, e.g. `SharedSecret::cron(std::env::var(\"CRON_SECRET\")?)`; a caller's `BearerToken` is a credential for a call: `.auth(token)`"
)]
pub trait SecretValue {
    /// The secret's text.
    fn into_secret_value(self) -> Secret;
}

impl SecretValue for Secret {
    fn into_secret_value(self) -> Secret {
        self
    }
}

impl SecretValue for &Secret {
    fn into_secret_value(self) -> Secret {
        self.clone()
    }
}

// One impl per form rather than a blanket one over `Into<String>`, so that a wrong value is reported with this
// trait's message rather than as `String: From<…>`.
macro_rules! secret_value_from_text {
    ($($text:ty),*) => {$(
        impl SecretValue for $text {
            fn into_secret_value(self) -> Secret {
                Secret::new(self)
            }
        }
    )*};
}
secret_value_from_text!(String, &str, &String, Box<str>, std::borrow::Cow<'_, str>);

impl SharedSecret {
    /// The header `x-cron-secret` must hold `secret`.
    pub fn cron(secret: impl SecretValue) -> SharedSecret {
        SharedSecret {
            header: HeaderName::from_static("x-cron-secret"),
            secret: secret.into_secret_value(),
        }
    }

    /// The header `header` must hold `secret`.
    pub fn new(header: HeaderName, secret: impl SecretValue) -> SharedSecret {
        SharedSecret {
            header,
            secret: secret.into_secret_value(),
        }
    }

    /// Whether `headers` hold the secret in the header. An empty secret (an unset `CRON_SECRET`) matches
    /// nothing, not even an empty header.
    pub fn verify(&self, headers: &HeaderMap) -> bool {
        !self.secret.expose().is_empty()
            && headers
                .get(&self.header)
                .is_some_and(|value| self.secret.matches(value.as_bytes()))
    }
}

/// The guard: a request without the secret is answered 401 before the inner service runs.
impl<I> Layer<I> for SharedSecret {
    type Service = <Middleware<SharedSecret> as Layer<I>>::Service;

    fn layer(&self, inner: I) -> Self::Service {
        let guard = Middleware::new(self.clone(), |State(guard), request, next| {
            Box::pin(async move {
                if guard.verify(request.headers()) {
                    next.run(request).await
                } else {
                    json_response(
                        StatusCode::UNAUTHORIZED,
                        &serde_json::json!({ "error": format!("missing or wrong {}", guard.header) }),
                    )
                }
            })
        });
        guard.layer(inner)
    }
}
