//! Calls of HTTP actions: plain HTTP requests to the deployment's site URL, with the client's credentials,
//! timeout, retry rules and size limit.

use crate::attempts::{self, Rules, Tried};
use crate::client::Client;
use crate::error::{Error, ErrorKind, HttpCall, not_run};
use crate::function::{FunctionKind, HttpRoute};
use crate::options::{FetchOptions, option_setters};
use crate::wire::{excerpt, retry_after};
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tracing::Instrument;

mod path;

/// A request to an HTTP action of the deployment, ready to be customised and awaited.
///
/// Made by [`Client::http`] from a route of `api!`, or by [`Client::http_request`] from a method and path. It
/// is sent to the client's [site URL](Client::site_url) with the same credential rules as a function call (the
/// request's `.auth`, then the client's default, then the [`with_auth`](crate::with_auth) scope if it was
/// opened for this client's deployment; an HTTP action reads it with `ctx.auth.getUserIdentity()`), within its timeout, and its answer is read up to the client's
/// [`max_response_bytes`](crate::ClientBuilder::max_response_bytes).
///
/// Awaiting it yields the [`HttpResponse`] whatever its status: an HTTP action's 404 or 400 is an answer, not a
/// failure of the call. Turn a non-2xx answer into an error with [`HttpResponse::error_for_status`].
///
/// Retries follow the client's [`RetryPolicy`](crate::RetryPolicy): a `GET` or `HEAD` is retried after a
/// connection failure or an answer of 429, 502, 503 or 504; any other method only when the request provably
/// did not run (the connection failed before it was sent, or the deployment refused it with a code of
/// [`NOT_RUN_CODES`](crate::NOT_RUN_CODES)). A `POST` that may have reached the action is never repeated.
///
/// ```no_run
/// # async fn demo(client: convex_fetch::Client, token: &str) -> Result<(), convex_fetch::Error> {
/// use convex_fetch::Method;
///
/// #[derive(serde::Deserialize)]
/// struct Post { title: String }
///
/// let posts: Vec<Post> = client
///     .http_request(Method::GET, "/posts")
///     .query("status", "published")
///     .auth(token)
///     .await?
///     .error_for_status()?
///     .json()?;
/// # Ok(()) }
/// ```
#[must_use = "a request does nothing until it is awaited"]
pub struct HttpRequest {
    client: Client,
    method: Method,
    /// The path as given, or the prefix of a prefix route still waiting for the rest of its path.
    path: String,
    /// A prefix route's prefix (its path without the `*`), until `.subpath` completes it.
    pending_prefix: Option<String>,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
    options: FetchOptions,
    /// The first setting that cannot be sent; reported when the request is awaited.
    problem: Option<String>,
    /// The request in flight, from the first poll on.
    running: Option<HttpFuture>,
}

impl Client {
    /// A request to the HTTP action at `route`, a constant `api!` generates (`http::POST_WEBHOOK`).
    ///
    /// A prefix route (`GET /files/*`) needs the rest of its path: `.subpath("reports/2024.pdf")`.
    ///
    /// ```no_run
    /// # use convex_fetch as convex;
    /// convex::api!("doc-specs/function_spec.json");
    /// # async fn demo(client: convex::Client, event: serde_json::Value) -> Result<(), convex::Error> {
    /// let answer = client.http(http::POST_WEBHOOK).json(&event).await?.error_for_status()?;
    /// let file = client.http(http::GET_FILES_PREFIX).subpath("reports/2024.pdf").await?;
    /// # let _ = (answer, file); Ok(()) }
    /// # fn main() {}
    /// ```
    pub fn http(&self, route: HttpRoute) -> HttpRequest {
        let mut request = self.http_request_named(route.method, route.path);
        if let Some(prefix) = route.path.strip_suffix('*') {
            request.pending_prefix = Some(prefix.to_owned());
        }
        request
    }

    /// A request with `method` to the HTTP action at `path` (`/webhook`, starting with `/`, without a query
    /// string: add that with [`HttpRequest::query`]).
    pub fn http_request(&self, method: Method, path: impl Into<String>) -> HttpRequest {
        let path = path.into();
        let mut request = self.http_request_named(method.as_str(), &path);
        request.method = method;
        request
    }

    fn http_request_named(&self, method: &str, path: &str) -> HttpRequest {
        let mut request = HttpRequest {
            client: self.clone(),
            method: Method::GET,
            path: path.to_owned(),
            pending_prefix: None,
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            options: FetchOptions::new(),
            problem: None,
            running: None,
        };
        match Method::from_bytes(method.as_bytes()) {
            Ok(method) => request.method = method,
            Err(_) => request.invalid(format!("`{method}` is not an HTTP method")),
        }
        request
    }
}

impl HttpRequest {
    option_setters!(options);

    /// Completes a prefix route's path with `rest`: `GET /files/*` with `reports/2024 q1.pdf` calls
    /// `/files/reports/2024%20q1.pdf`.
    ///
    /// `rest` is plain text, not a URL: each of its `/`-separated segments is percent-encoded, `%` included,
    /// so what the action reads is exactly `rest`. A path that could leave the prefix is refused: one with a
    /// `.` or `..` segment, also when percent-decoded (`%2e%2e`, `.%2e`, encoded more than once) or separated
    /// by `\` (`..\admin`), which some servers read as `/`. So is `subpath` on a route that is not a prefix
    /// route.
    pub fn subpath(mut self, rest: &str) -> Self {
        match self.pending_prefix.take() {
            Some(_) if path::leaves_its_folder(rest) => self.invalid(format!(
                "the subpath `{}` holds a `.` or `..` segment (perhaps percent-encoded or after a `\\`), \
                 which could leave the prefix of `{}`",
                rest.escape_debug(),
                self.path
            )),
            Some(prefix) => {
                let segments: Vec<String> = rest
                    .trim_start_matches('/')
                    .split('/')
                    .map(path::encode_segment)
                    .collect();
                self.path = format!("{prefix}{}", segments.join("/"));
            }
            None => self.invalid(format!(
                "`subpath` completes a prefix route (ending in `*`), and `{}` is not one",
                self.path
            )),
        }
        self
    }

    /// Appends the query parameter `name=value` (percent-encoded).
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Adds a header. The credential goes with `.auth(…)` or `.admin_key(…)`, never here: an `Authorization`
    /// header is refused, as are `Host`, `Content-Length` and `Transfer-Encoding`, which the client sets.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
            self.invalid(format!("`{name}` is not a valid header name"));
            return self;
        };
        if [AUTHORIZATION, HOST, CONTENT_LENGTH, TRANSFER_ENCODING].contains(&name) {
            let hint = if name == AUTHORIZATION {
                "give the credential with `.auth(…)` or `.admin_key(…)`"
            } else {
                "the client sets it"
            };
            self.invalid(format!("the header `{name}` cannot be set: {hint}"));
            return self;
        }
        match HeaderValue::from_str(value) {
            Ok(value) => {
                self.headers.append(name, value);
            }
            // The value is not quoted: it may be a secret.
            Err(_) => self.invalid(format!(
                "the value of the header `{name}` is not a valid header value"
            )),
        }
        self
    }

    /// The body, sent as it is; set its `Content-Type` with [`header`](Self::header).
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// The body as JSON (plain JSON, as an HTTP action's `request.json()` reads it), with
    /// `Content-Type: application/json` unless a content type is set.
    pub fn json(mut self, body: &impl Serialize) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => {
                self.body = bytes.into();
                if !self.headers.contains_key(CONTENT_TYPE) {
                    self.headers
                        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                }
            }
            Err(e) => self.invalid(format!("the JSON body cannot be encoded: {e}")),
        }
        self
    }

    fn invalid(&mut self, problem: String) {
        self.problem.get_or_insert(problem);
    }

    /// What the request is called in errors and traces: its method and path, never its query.
    fn call(&self) -> HttpCall {
        HttpCall::Action {
            method: self.method.to_string(),
            path: self.path.clone(),
        }
    }

    /// The URL to send to, or what makes the request unsendable.
    fn url(&self) -> Result<reqwest::Url, String> {
        if let Some(problem) = &self.problem {
            return Err(problem.clone());
        }
        if let Some(prefix) = &self.pending_prefix {
            return Err(format!(
                "`{prefix}*` is a prefix route: give the rest of the path with `.subpath(…)`"
            ));
        }
        let path = &self.path;
        if !path.starts_with('/') {
            return Err(format!("the path `{path}` must start with `/`"));
        }
        if path.contains(['?', '#']) {
            return Err(format!(
                "the path `{path}` holds `?` or `#`: give query parameters with `.query(…)`"
            ));
        }
        // The URL parser would resolve these silently (`%2e` is a dot to it, `\` a slash), sending the
        // request somewhere else than asked.
        if path::leaves_its_folder(path) {
            return Err(format!(
                "the path `{}` holds a `.` or `..` segment (perhaps percent-encoded or after a `\\`)",
                path.escape_debug()
            ));
        }
        let mut url = reqwest::Url::parse(&format!("{}{path}", self.client.full_site_url()))
            .map_err(|e| format!("the path `{path}` does not make a valid URL: {e}"))?;
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&self.query);
        }
        Ok(url)
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Query values and header values may carry secrets: only their names are shown.
        let query: Vec<&str> = self.query.iter().map(|(name, _)| name.as_str()).collect();
        let headers: Vec<&str> = self.headers.keys().map(HeaderName::as_str).collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &query)
            .field("headers", &headers)
            .field("body_bytes", &self.body.len())
            .field("options", &self.options)
            .finish()
    }
}

/// A request in flight.
type HttpFuture = Pin<Box<dyn Future<Output = Result<HttpResponse, Error>> + Send + 'static>>;

/// Sent on the first poll, as a [`Call`](crate::Call) is: settings chain before it, and a request goes
/// wherever a future goes (`join_all`, `tokio::spawn`).
impl Future for HttpRequest {
    type Output = Result<HttpResponse, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let running = match this.running {
            Some(ref mut running) => running,
            None => {
                let outgoing = Outgoing {
                    call: this.call(),
                    url: this.url(),
                    client: this.client.clone(),
                    method: this.method.clone(),
                    path: std::mem::take(&mut this.path),
                    headers: std::mem::take(&mut this.headers),
                    body: std::mem::take(&mut this.body),
                    options: std::mem::take(&mut this.options),
                };
                this.running.insert(Box::pin(send(outgoing)))
            }
        };
        running.as_mut().poll(cx)
    }
}

/// The answer of an HTTP action: its status, headers and body, whatever the status.
///
/// **The body is already read** when the call resolves: the client reads it whole, under the client's
/// size cap ([`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes), a
/// [`ErrorKind::TooLarge`] error past it) and within the call's timeout and retry rules, so that a slow
/// or endless body is the call's error and not a hang at some later read. So, unlike `reqwest::Response`,
/// [`text`](Self::text), [`json`](Self::json) and [`bytes`](Self::bytes) are not `async` (there is nothing
/// left to wait for; `answer.text().await` does not compile) and borrow instead of consuming: the body can
/// be read as text and then as JSON, or after [`error_for_status`](Self::error_for_status).
///
/// ```no_run
/// # async fn demo(client: convex_fetch::Client) -> Result<(), convex_fetch::Error> {
/// let answer = client.http_request(convex_fetch::Method::GET, "/posts").await?;
/// let posts: Vec<serde_json::Value> = answer.error_for_status()?.json()?; // no `.await`: already read
/// # let _ = posts; Ok(()) }
/// ```
pub struct HttpResponse {
    call: HttpCall,
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl HttpResponse {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first value of the header `name`, if it is there and is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The body (read when the call resolved; see the type's docs for why this is not `async`).
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// The body, taken.
    pub fn into_bytes(self) -> Bytes {
        self.body
    }

    /// The body as UTF-8 text; [`ErrorKind::Decode`] if it is not.
    pub fn text(&self) -> Result<&str, Error> {
        std::str::from_utf8(&self.body).map_err(|e| self.decode(format!("not UTF-8 text: {e}")))
    }

    /// The body read as JSON into `T` (plain JSON, as the action wrote it); [`ErrorKind::Decode`] if it
    /// does not fit.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| self.decode(e.to_string()))
    }

    /// The response if its status is 2xx, else an [`ErrorKind::Status`] error quoting the start of the
    /// body.
    pub fn error_for_status(self) -> Result<Self, Error> {
        if self.status.is_success() {
            return Ok(self);
        }
        Err(Error::http(
            &self.call,
            ErrorKind::Status {
                status: self.status,
                body: excerpt(&self.body),
            },
        ))
    }

    fn decode(&self, message: String) -> Error {
        Error::http(
            &self.call,
            ErrorKind::Decode {
                message,
                excerpt: excerpt(&self.body),
            },
        )
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values may carry session cookies: only names are shown.
        let headers: Vec<&str> = self.headers.keys().map(HeaderName::as_str).collect();
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &headers)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// `work`, or a [`ErrorKind::Timeout`] at `deadline` (`timeout` after the start), saying whether anything
/// was sent by then.
pub(crate) async fn until_deadline<T>(
    call: &HttpCall,
    deadline: Instant,
    timeout: Duration,
    sent: &AtomicBool,
    work: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    match tokio::time::timeout_at(deadline.into(), work).await {
        Ok(outcome) => outcome,
        Err(_) => Err(Error::http(
            call,
            ErrorKind::Timeout {
                after: timeout,
                sent: sent.load(Ordering::Relaxed),
            },
        )),
    }
}

/// What a request sends, taken from its builder on the first poll.
struct Outgoing {
    call: HttpCall,
    /// The URL, or what makes the request unsendable.
    url: Result<reqwest::Url, String>,
    client: Client,
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
    options: FetchOptions,
}

/// Sends the request as the retry rules allow within its timeout.
async fn send(request: Outgoing) -> Result<HttpResponse, Error> {
    let call = request.call.clone();
    let url = request
        .url
        .clone()
        .map_err(|message| Error::http(&call, ErrorKind::Invalid { message }))?;
    let client = &request.client;
    let options = crate::caller::call_options(client, request.options.clone());
    let authorization = options.authorization()?;
    let timeout = options.timeout_setting().unwrap_or(crate::DEFAULT_TIMEOUT);
    let verbose = options.is_verbose();
    if verbose {
        eprintln!(
            "[httpAction] {}: Starting {{ hasAuth: {} }}",
            call_text(&call),
            options.has_auth()
        );
    }
    let idempotent = matches!(request.method, Method::GET | Method::HEAD);
    let span =
        tracing::debug_span!("convex_http_action", method = %request.method, path = %request.path);
    let started = Instant::now();
    // Whether any attempt started sending: a request that timed out before did not run.
    let sent = AtomicBool::new(false);
    let rules = Rules {
        request: attempts::Request::HttpAction,
        idempotent,
        body_again: true,
        // An HTTP action runs on the deployment as an action does, and counts against the same caps.
        slot: Some(FunctionKind::Action),
    };
    let one_attempt = || async {
        let outcome = attempt(&request, &call, &url, authorization.as_ref()).await;
        match &outcome {
            Ok(response) => {
                let (transient, not_run) = answer_verdict(response);
                let retry_after = retry_after(&response.headers);
                Tried {
                    outcome,
                    transient,
                    not_run,
                    retry_after,
                }
            }
            Err(error) => match error.kind() {
                ErrorKind::Transport { sent, .. } => {
                    let not_run = !sent;
                    Tried {
                        outcome,
                        transient: true,
                        not_run,
                        retry_after: None,
                    }
                }
                _ => Tried::done(outcome),
            },
        }
    };
    let timed_out = timed_out(&call, timeout, &sent);
    let outcome = rules
        .run(
            client,
            attempts::deadline(timeout),
            &sent,
            one_attempt,
            timed_out,
        )
        .instrument(span.clone())
        .await;
    let _enter = span.enter();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    match &outcome {
        Ok(response) => {
            tracing::debug!(
                elapsed_ms,
                status = response.status.as_u16(),
                "HTTP action answered"
            );
            if verbose {
                eprintln!(
                    "[httpAction] {}: {} ({} bytes)",
                    call_text(&call),
                    response.status,
                    response.body.len()
                );
            }
        }
        Err(err) => {
            tracing::debug!(elapsed_ms, error = %err, "HTTP action failed");
            if verbose {
                eprintln!("[httpAction] {}: Error {err}", call_text(&call));
            }
        }
    }
    outcome
}

fn call_text(call: &HttpCall) -> String {
    match call {
        HttpCall::Action { method, path } => format!("{method} {path}"),
        other => other.to_string(),
    }
}

/// What an answer tells about another attempt: whether it is a transient refusal (a 429, 502, 503 or 504),
/// and whether it proves the action did not run (the deployment's own refusal before running anything, a
/// 429 or 503 with a `{code}` body of `NOT_RUN_CODES`; the action's own 503 may follow a write).
fn answer_verdict(response: &HttpResponse) -> (bool, bool) {
    let status = response.status.as_u16();
    let transient = matches!(status, 429 | 502 | 503 | 504);
    #[derive(serde::Deserialize)]
    struct Refusal {
        code: String,
    }
    let not_run = matches!(status, 429 | 503)
        && serde_json::from_slice::<Refusal>(&response.body)
            .is_ok_and(|r| not_run(status, &r.code));
    (transient, not_run)
}

/// One attempt: the request sent, and the whole answer read up to the size limit.
async fn attempt(
    request: &Outgoing,
    call: &HttpCall,
    url: &reqwest::Url,
    authorization: Option<&HeaderValue>,
) -> Result<HttpResponse, Error> {
    let client = &request.client;
    let mut builder = client
        .reqwest()
        .request(request.method.clone(), url.clone())
        .headers(request.headers.clone())
        .body(request.body.clone());
    if let Some(authorization) = authorization {
        builder = builder.header(AUTHORIZATION, authorization.clone());
    }
    let mut response = builder.send().await.map_err(|e| transport(call, e))?;
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let limit = client.max_response_bytes();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport(call, e))? {
        if body.len() + chunk.len() > limit {
            return Err(Error::http(
                call,
                ErrorKind::TooLarge {
                    limit: limit as u64,
                    sent: true,
                },
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(HttpResponse {
        call: call.clone(),
        status,
        headers,
        body: body.into(),
    })
}

/// The error of an HTTP request (an action, an upload, a download) that ran out of `timeout`, saying whether
/// anything had been sent: what [`Rules::run`](attempts::Rules::run) answers at the deadline.
pub(crate) fn timed_out<'a>(
    call: &'a HttpCall,
    timeout: Duration,
    sent: &'a AtomicBool,
) -> impl FnOnce() -> Error + 'a {
    move || {
        Error::http(
            call,
            ErrorKind::Timeout {
                after: timeout,
                sent: sent.load(Ordering::Relaxed),
            },
        )
    }
}

/// A failure of the HTTP stack as an [`ErrorKind::Transport`]: only a failed connect proves the request
/// never left. The URL is dropped from the message, as its query may hold a token.
pub(crate) fn transport(call: &HttpCall, error: reqwest::Error) -> Error {
    Error::http(call, crate::wire::transport_failure(error))
}
