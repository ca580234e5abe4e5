//! An in-process Convex deployment for tests: add `convex-fetch-testing` under `[dev-dependencies]`.
//!
//! [`TestDeployment`] serves the deployment HTTP API (`/api/query`, `/api/mutation`, `/api/action`,
//! `/api/run/…`, `/api/function`, `/api/query_ts`, `/api/query_at_ts`) on `127.0.0.1`, with the functions
//! written as Rust closures. It speaks the wire protocol exactly: the Convex value encoding and the `json`
//! format, success and error bodies, `logLines`, argument validation failures, unknown paths and wrong kinds,
//! 400s for bad paths and formats, bearer tokens and the admin key, internal functions. It records every
//! request, and can inject latency and faults (error statuses, proxy pages, dropped connections, cut bodies),
//! so retries and error handling can be tested without a Convex account.
//!
//! Testing a handler of a web server that calls a query:
//!
//! ```
//! use convex_fetch_testing::{Ctx, FunctionError, TestDeployment};
//! use convex_fetch::{Client, StatusCode};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct TitlesArgs {
//!     author: String,
//! }
//!
//! // The handler under test, written as an axum handler would be, with the client from the app state.
//! async fn titles_by(client: &Client, author: &str) -> Result<String, (StatusCode, String)> {
//!     let titles: Vec<String> = client
//!         .query("posts:titles", serde_json::json!({ "author": author }))
//!         .await
//!         .map_err(|err| (err.status_code(), err.to_string()))?;
//!     Ok(titles.join(", "))
//! }
//!
//! #[tokio::main]
//! async fn main() {
//!     let deployment = TestDeployment::builder()
//!         .query("posts:titles", |ctx: Ctx, args: TitlesArgs| async move {
//!             ctx.log(format!("titles by {}", args.author));
//!             if args.author.is_empty() {
//!                 // `throw new ConvexError("author is required")`
//!                 return Err(FunctionError::convex("author is required"));
//!             }
//!             Ok(vec![format!("Hello from {}", args.author), "Second post".to_owned()])
//!         })
//!         .start()
//!         .await;
//!
//!     let client = deployment.client();
//!     assert_eq!(titles_by(&client, "ada").await.unwrap(), "Hello from ada, Second post");
//!     // A ConvexError is the caller's fault: the handler answers 400.
//!     let (status, message) = titles_by(&client, "").await.unwrap_err();
//!     assert_eq!(status, StatusCode::BAD_REQUEST);
//!     assert!(message.contains("author is required"), "{message}");
//!
//!     // What reached the deployment:
//!     let calls = deployment.calls();
//!     assert_eq!(calls.len(), 2);
//!     assert_eq!(calls[0].path, "posts:titles");
//!     assert_eq!(calls[0].args, convex_fetch::value!({ author: "ada" }));
//!     assert_eq!(deployment.executions("posts:titles"), 2);
//! }
//! ```
//!
//! To run the real TypeScript functions of a `convex/` folder instead, with Node.js and the official
//! `convex-test`, use [`JsDeployment`] (see [`js`]).
//!
//! Faults are queued on the running deployment and strike the next requests:
//!
//! ```
//! use convex_fetch_testing::{Ctx, Fault, TestDeployment};
//!
//! # #[tokio::main]
//! # async fn main() {
//! let deployment = TestDeployment::builder()
//!     .mutation("tasks:create", |_ctx: Ctx, _args: convex_fetch::value::Value| async move { Ok(()) })
//!     .start()
//!     .await;
//! // The mutation runs, but its answer is lost: the client must not assume it did not run.
//! deployment.fail_next(1, Fault::DropAfterRun);
//! let result: Result<(), _> = deployment.client().mutation("tasks:create", serde_json::json!({})).await;
//! assert!(result.is_err());
//! assert_eq!(deployment.executions("tasks:create"), 1);
//! # }
//! ```

mod auth;
mod conn;
mod ctx;
mod fault;
mod format;
mod function_error;
// The backend's rules for paths, shared with the macros and the runtime (a symlink to macros/src/grammar.rs).
#[allow(
    dead_code,
    reason = "the file is shared; the test deployment uses only the path rules"
)]
mod grammar;
mod handler;
pub mod js;
mod live;
mod live_query;
mod live_request;
mod live_state;
mod outcome;
mod path;
mod record;
mod request;
mod routes;
mod server;
mod shared;
mod site;
mod state;
mod storage;
mod system_error;
#[cfg(test)]
mod tests;
mod upstream;

pub use auth::Auth;
pub use ctx::Ctx;
pub use fault::Fault;
pub use function_error::FunctionError;
pub use js::{
    JsDeployment, JsDeploymentBuilder, JsError, SpecOptions, function_spec, function_spec_with,
};
pub use live_state::SyncFault;
pub use record::{CallTimeout, RecordedCall};
pub use routes::{HttpActionRequest, RecordedHttpRequest};

use conn::{Connection, KillableListener};
use convex_fetch::{Client, FunctionKind};
use handler::{Registered, erase};
use path::FunctionPath;
use record::Recorder;
use serde::Serialize;
use serde::de::DeserializeOwned;
use shared::Shared;
use state::States;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::net::Ipv4Addr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::watch;

/// The admin key of a test deployment unless [`TestDeploymentBuilder::admin_key`] sets another.
pub const DEFAULT_ADMIN_KEY: &str = "test-admin-key";

/// How many requests a test deployment remembers unless [`TestDeploymentBuilder::max_recorded_calls`] says
/// otherwise; older ones are dropped.
pub const DEFAULT_MAX_RECORDED_CALLS: usize = 1024;

/// The controls both deployments offer, written once (as the runtime's option setters are): `$field` is the
/// deployment's `Shared` (its front's, for the JS deployment), with the `recorder`, `faults`, `latency` and
/// the sync sessions' `live` state.
macro_rules! controls {
    ($field:ident) => {
        /// The oldest recorded call to `path` (`posts:list`, `posts.js:list` alike), waiting up to `timeout`
        /// for one to arrive: for calls the code under test makes in the background, such as a
        /// fire-and-forget mutation sent after the response.
        ///
        /// ```
        /// use convex_fetch_testing::{Ctx, TestDeployment};
        /// use std::time::Duration;
        ///
        /// # #[tokio::main] async fn main() {
        /// let deployment = TestDeployment::builder()
        ///     .mutation("pageviews:record", |_ctx: Ctx, _args: serde_json::Value| async move { Ok(()) })
        ///     .start()
        ///     .await;
        /// let client = deployment.client();
        /// tokio::spawn(async move {
        ///     let _: Result<(), _> = client.mutation("pageviews:record", serde_json::json!({ "path": "/" })).await;
        /// });
        /// let call = deployment.wait_for_call("pageviews:record", Duration::from_secs(5)).await.unwrap();
        /// assert_eq!(call.args, convex_fetch::value!({ path: "/" }));
        /// # }
        /// ```
        pub async fn wait_for_call(
            &self,
            path: &str,
            timeout: std::time::Duration,
        ) -> Result<$crate::RecordedCall, $crate::CallTimeout> {
            $crate::record::wait_for_call(&self.$field.recorder, path, timeout).await
        }

        /// How many recorded requests were dropped to keep within the limit.
        pub fn dropped_calls(&self) -> u64 {
            $crate::lock(&self.$field.recorder).dropped()
        }

        /// Delays every later request by `latency` before it is read. `Duration::ZERO` turns it off.
        pub fn set_latency(&self, latency: std::time::Duration) {
            *$crate::lock(&self.$field.latency) = latency;
        }

        /// Makes the next `n` requests (to any endpoint of [`url`](Self::url)) fail with `fault`, after the
        /// faults already queued.
        pub fn fail_next(&self, n: usize, fault: $crate::Fault) {
            $crate::lock(&self.$field.faults).extend(std::iter::repeat_n(fault, n));
        }

        /// How many queued faults have not struck yet.
        pub fn pending_faults(&self) -> usize {
            $crate::lock(&self.$field.faults).len()
        }

        /// Drops the queued faults.
        pub fn clear_faults(&self) {
            $crate::lock(&self.$field.faults).clear();
        }

        /// Queues a fault of the sync WebSocket (live queries): it strikes the next message a session sends, or
        /// for [`SyncFault::DropOnMutation`](crate::SyncFault::DropOnMutation) the next mutation a session receives.
        ///
        /// ```
        /// use convex_fetch_testing::{SyncFault, TestDeployment};
        ///
        /// # #[tokio::main] async fn main() {
        /// let deployment = TestDeployment::builder().start().await;
        /// // The next message is lost with the connection; the one after it is a close with code 1013.
        /// deployment.fail_next_sync(SyncFault::Drop);
        /// deployment.fail_next_sync(SyncFault::Close { code: 1013, reason: "Overloaded".into() });
        /// assert_eq!(deployment.pending_sync_faults(), 2);
        /// # }
        /// ```
        pub fn fail_next_sync(&self, fault: $crate::SyncFault) {
            self.$field.live.fail_next(fault);
        }

        /// How many queued sync faults have not struck yet.
        pub fn pending_sync_faults(&self) -> usize {
            self.$field.live.pending_faults()
        }

        /// Drops every open sync WebSocket now, without a close frame (the clients see 1006).
        pub fn drop_sync_connections(&self) {
            self.$field.live.drop_all();
        }

        /// Refuses `token` on the sync socket from now on (an `AuthError`, then the socket closes), even if
        /// registered with the builder's `token`: as a revoked or expired token is.
        pub fn refuse_token(&self, token: impl Into<String>) {
            self.$field.live.refuse(token.into());
        }

        /// The messages clients sent on sync sockets, oldest first (the last 10,000), as JSON.
        pub fn sync_messages(&self) -> Vec<serde_json::Value> {
            self.$field.live.messages()
        }

        /// How many sync WebSockets were opened since the start.
        pub fn sync_connections_opened(&self) -> u64 {
            self.$field.live.opened()
        }

        /// How many sync WebSockets are open now.
        pub fn sync_connections_open(&self) -> u64 {
            self.$field.live.open()
        }
    };
}
pub(crate) use controls;

/// A Convex deployment served in-process on `127.0.0.1`, with functions written in Rust.
///
/// Build one with [`TestDeployment::builder`]; it serves until dropped. Every method works on `&self` and is
/// safe to use from several tasks. See the [module documentation](self) for an example.
pub struct TestDeployment {
    url: String,
    client: Client,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
}

impl TestDeployment {
    /// A builder on which functions, tokens and the admin key are registered.
    pub fn builder() -> TestDeploymentBuilder {
        TestDeploymentBuilder {
            functions: HashMap::new(),
            admin_key: DEFAULT_ADMIN_KEY.to_owned(),
            tokens: HashMap::new(),
            max_recorded_calls: DEFAULT_MAX_RECORDED_CALLS,
            redact_errors: false,
            snapshot_lifetime: convex_fetch::SNAPSHOT_LIFETIME,
            states: States::default(),
            routes: routes::Routes::default(),
            files: Arc::new(storage::Files::default()),
        }
    }

    /// The deployment URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A client of this deployment, with default settings (no credentials).
    ///
    /// For credentials or a retry policy, build one with `Client::builder(deployment.url())`.
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// The admin key, for `Client::builder(…).admin_key(…)` or a call's `.admin_key(…)`.
    pub fn admin_key(&self) -> &str {
        &self.shared.admin_key
    }

    /// The requests that named a function, oldest first (at most the builder's
    /// [`max_recorded_calls`](TestDeploymentBuilder::max_recorded_calls); older ones are dropped).
    ///
    /// A request is recorded once its body is read and names a valid path, whether or not the function ran:
    /// retries show up as several calls.
    pub fn calls(&self) -> Vec<RecordedCall> {
        lock(&self.shared.recorder).calls()
    }

    /// The state of type `S` registered with [`TestDeploymentBuilder::state`], locked until the guard is
    /// dropped; `None` when there is none.
    pub fn state<S: Send + 'static>(&self) -> Option<MutexGuard<'_, S>> {
        self.shared.states.get(true).ok()
    }

    /// How many times the handler at `path` (`posts:list`, `posts.js:list` alike) started running: requests
    /// refused before the handler (auth, validation, faults) do not count.
    pub fn executions(&self, path: &str) -> usize {
        match FunctionPath::parse(path) {
            Ok(path) => lock(&self.shared.recorder).executions(&path.canonical()),
            Err(_) => 0,
        }
    }

    /// The site URL, where HTTP actions are served: the deployment URL followed by `/http`, as a self-hosted
    /// backend serves them on its main port (its site port, 3211, forwards there). A client of this
    /// deployment derives it by itself: [`Client::site_url`](convex_fetch::Client::site_url).
    pub fn site_url(&self) -> String {
        format!("{}{}", self.url, site::SITE_PREFIX)
    }

    /// The requests to the site URL (HTTP actions), oldest first, whether or not a route matched; bounded as
    /// [`calls`](Self::calls) are.
    pub fn http_requests(&self) -> Vec<RecordedHttpRequest> {
        lock(&self.shared.recorder).http_requests()
    }

    /// A new upload URL, `<url>/api/storage/upload?token=…`, as `ctx.storage.generateUploadUrl()` returns it.
    pub fn upload_url(&self) -> String {
        self.shared.files.upload_url()
    }

    /// The URL of a stored file, `<url>/api/storage/<uuid>`, as `ctx.storage.getUrl(id)` returns it; `None`
    /// for an id that was never stored.
    pub fn file_url(&self, storage_id: &str) -> Option<String> {
        self.shared.files.url(storage_id)
    }

    /// The bytes of a stored file (read from the disk, where uploads are streamed).
    pub fn stored_file(&self, storage_id: &str) -> Option<Vec<u8>> {
        self.shared.files.read(storage_id)
    }

    /// The content type a stored file was uploaded with.
    pub fn stored_content_type(&self, storage_id: &str) -> Option<String> {
        self.shared.files.content_type(storage_id)
    }

    /// How many files were stored.
    pub fn stored_files(&self) -> usize {
        self.shared.files.count()
    }

    /// Forgets the recorded requests, the dropped count and the execution counts.
    pub fn clear_calls(&self) {
        lock(&self.shared.recorder).clear();
    }

    controls!(shared);
}

impl Drop for TestDeployment {
    fn drop(&mut self) {
        // Stops accepting connections; requests in flight finish.
        let _ = self.shutdown.send(true);
    }
}

impl fmt::Debug for TestDeployment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestDeployment")
            .field("url", &self.url)
            .field("admin_key", &"[redacted]")
            .field("functions", &Functions(&self.shared.functions))
            .field("tokens", &self.shared.tokens.len())
            .field("http_routes", &self.shared.routes)
            .field("stored_files", &self.stored_files())
            .field("recorded_calls", &lock(&self.shared.recorder).calls().len())
            .field("pending_faults", &self.pending_faults())
            .field("latency", &*lock(&self.shared.latency))
            .finish()
    }
}

/// Registers functions, tokens and the admin key of a [`TestDeployment`], then starts it.
///
/// Each handler is an async closure taking the call's [`Ctx`] and its args, decoded from the Convex encoding
/// into any `DeserializeOwned` type (args that do not decode fail the call as an `ArgumentValidationError`,
/// without running the handler). It returns any `Serialize` value, sent in the Convex encoding, or a
/// [`FunctionError`]. A handler taking or returning a [`value::Value`](convex_fetch::value::Value) sees and
/// sends exactly the Convex values on the wire: int64s, bytes, NaN, ±∞ and -0 keep their types both ways.
///
/// Paths are `module:export` (`posts:list`, `admin/users:remove`); `posts.js:list` and `posts` (the
/// `default` export) are accepted too. Registering a path again replaces its handler.
#[must_use = "call `.start().await` to serve the deployment"]
pub struct TestDeploymentBuilder {
    functions: HashMap<String, Registered>,
    admin_key: String,
    tokens: HashMap<String, serde_json::Value>,
    max_recorded_calls: usize,
    redact_errors: bool,
    snapshot_lifetime: Duration,
    states: States,
    routes: routes::Routes,
    files: Arc<storage::Files>,
}

macro_rules! registration {
    ($(#[$doc:meta])* $name:ident, $kind:ident, $internal:literal) => {
        $(#[$doc])*
        ///
        /// # Panics
        ///
        /// If `path` is not a valid function path.
        pub fn $name<A, O, F, Fut>(self, path: &str, handler: F) -> Self
        where
            F: Fn(Ctx, A) -> Fut + Send + Sync + 'static,
            A: DeserializeOwned,
            Fut: Future<Output = Result<O, FunctionError>> + Send + 'static,
            O: Serialize,
        {
            self.register(path, FunctionKind::$kind, $internal, erase(handler))
        }
    };
}

impl TestDeploymentBuilder {
    registration!(
        /// Registers a public query, served by `/api/query`, `/api/query_at_ts`, `/api/run/…` and
        /// `/api/function`.
        query, Query, false
    );
    registration!(
        /// Registers a public mutation, served by `/api/mutation`, `/api/run/…` and `/api/function`.
        mutation, Mutation, false
    );
    registration!(
        /// Registers a public action, served by `/api/action`, `/api/run/…` and `/api/function`.
        action, Action, false
    );
    registration!(
        /// Registers an internal query: callable only with the admin key; without it, calls fail exactly as
        /// calls to a function that does not exist.
        internal_query, Query, true
    );
    registration!(
        /// Registers an internal mutation: callable only with the admin key; without it, calls fail exactly
        /// as calls to a function that does not exist.
        internal_mutation, Mutation, true
    );
    registration!(
        /// Registers an internal action: callable only with the admin key; without it, calls fail exactly as
        /// calls to a function that does not exist.
        internal_action, Action, true
    );

    fn register(
        mut self,
        path: &str,
        kind: FunctionKind,
        internal: bool,
        handler: handler::Handler,
    ) -> Self {
        let parsed = match FunctionPath::parse(path) {
            Ok(parsed) => parsed,
            Err(error) => panic!("`{path}` is not a valid Convex function path: {error}"),
        };
        self.functions.insert(
            parsed.canonical(),
            Registered {
                kind,
                internal,
                handler,
            },
        );
        self
    }

    /// State for the handlers, one value per type: a handler reads it with [`Ctx::state`], the test with
    /// [`TestDeployment::state`]. The deployment keeps it behind a lock, so no `Arc<Mutex<_>>` is needed.
    /// Registering a second value of one type replaces the first.
    pub fn state<S: Send + 'static>(mut self, value: S) -> Self {
        self.states.insert(value);
        self
    }

    /// Registers an HTTP action on `method` (`GET`, `POST`, …) and `path`, served on the
    /// [site URL](TestDeployment::site_url). A path ending in `/` is a prefix route, as `pathPrefix` in
    /// Convex's `httpRouter`, and matches every path under it (a spec's `/files/*` is the same route); an
    /// exact route wins over a prefix, and a longer prefix over a shorter. A request no route matches is
    /// answered 404 `No matching routes found`. The handler returns anything axum answers with
    /// (`(StatusCode, String)`, `axum::Json(value)`, a `Response`).
    ///
    /// ```
    /// use convex_fetch_testing::{HttpActionRequest, TestDeployment};
    /// use axum::http::StatusCode;
    ///
    /// let builder = TestDeployment::builder()
    ///     .http_route("POST", "/webhook", |request: HttpActionRequest| async move {
    ///         (StatusCode::OK, format!("got {} bytes", request.body().len()))
    ///     })
    ///     .http_route("GET", "/files/", |request: HttpActionRequest| async move {
    ///         format!("file {}", request.path())
    ///     });
    /// # let _ = builder;
    /// ```
    ///
    /// # Panics
    ///
    /// If `path` does not start with `/`.
    pub fn http_route<F, Fut, R>(mut self, method: &str, path: &str, handler: F) -> Self
    where
        F: Fn(HttpActionRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: axum::response::IntoResponse,
    {
        let path = path.strip_suffix('*').unwrap_or(path);
        self.routes.add(method, path, handler);
        self
    }

    /// Registers at `path` a mutation that returns a new upload URL, as one calling
    /// `ctx.storage.generateUploadUrl()` does. A `POST` of a file to the URL stores it and answers
    /// `{"storageId": "…"}`; an unknown token is refused with 401.
    ///
    /// # Panics
    ///
    /// If `path` is not a valid function path.
    pub fn upload_url_mutation(self, path: &str) -> Self {
        let files = self.files.clone();
        self.mutation(path, move |_ctx: Ctx, _args: convex_fetch::value::Value| {
            let url = files.upload_url();
            async move { Ok(url) }
        })
    }

    /// Registers at `path` a query taking `{storageId}` that returns the file's URL, or `null` for an
    /// unknown id, as one calling `ctx.storage.getUrl(storageId)` does.
    ///
    /// # Panics
    ///
    /// If `path` is not a valid function path.
    pub fn file_url_query(self, path: &str) -> Self {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Args {
            storage_id: String,
        }
        let files = self.files.clone();
        self.query(path, move |_ctx: Ctx, args: Args| {
            let url = files.url(&args.storage_id);
            async move { Ok(url) }
        })
    }

    /// The admin key (`Authorization: Convex <key>`). Default [`DEFAULT_ADMIN_KEY`].
    pub fn admin_key(mut self, key: impl Into<String>) -> Self {
        self.admin_key = key.into();
        self
    }

    /// Accepts `Authorization: Bearer <token>` as the user `identity` (what [`Ctx::identity`] returns, e.g.
    /// `{"subject": "user_1", "issuer": "https://auth.example.com"}`). Any other bearer token is refused with
    /// 401 `InvalidAuthHeader`, as an expired or forged JWT is.
    pub fn token(mut self, token: impl Into<String>, identity: serde_json::Value) -> Self {
        self.tokens.insert(token.into(), identity);
        self
    }

    /// How many requests [`TestDeployment::calls`] remembers. Default [`DEFAULT_MAX_RECORDED_CALLS`].
    pub fn max_recorded_calls(mut self, max: usize) -> Self {
        self.max_recorded_calls = max;
        self
    }

    /// Redacts function errors as production deployments do: `errorMessage` is only
    /// `[Request ID: …] Server Error`, while a `ConvexError`'s `errorData` is still sent. By default errors
    /// come as development deployments send them, with `Uncaught Error: <message>` and a stack line.
    pub fn redact_errors(mut self) -> Self {
        self.redact_errors = true;
        self
    }

    /// How long after `/api/query_ts` gave it a timestamp can be queried at; older ones fail with 503
    /// `InternalServerError`, as past the backend's transaction window. Default
    /// [`SNAPSHOT_LIFETIME`](convex_fetch::SNAPSHOT_LIFETIME).
    pub fn snapshot_lifetime(mut self, lifetime: Duration) -> Self {
        self.snapshot_lifetime = lifetime;
        self
    }

    /// Binds a free port on `127.0.0.1` and serves the deployment on the current Tokio runtime until the
    /// returned handle is dropped.
    ///
    /// # Panics
    ///
    /// If no port can be bound; [`try_start`](Self::try_start) returns the error instead.
    pub async fn start(self) -> TestDeployment {
        match self.try_start().await {
            Ok(deployment) => deployment,
            Err(e) => panic!("the test deployment could not start: {e}"),
        }
    }

    /// Like [`start`](Self::start), returning the error when no port can be bound.
    pub async fn try_start(self) -> std::io::Result<TestDeployment> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let client = Client::new(url.clone()).map_err(std::io::Error::other)?;
        let _ = self.files.base_url.set(url.clone());
        let shared = Arc::new(Shared {
            functions: self.functions,
            admin_key: self.admin_key,
            tokens: self.tokens,
            recorder: Mutex::new(Recorder::new(self.max_recorded_calls)),
            faults: Mutex::new(VecDeque::new()),
            latency: Mutex::new(Duration::ZERO),
            ts: AtomicU64::new(0),
            snapshot_lifetime: self.snapshot_lifetime,
            redact_errors: self.redact_errors,
            states: Arc::new(self.states),
            request_ids: AtomicU64::new(0),
            routes: self.routes,
            files: self.files,
            live: live_state::Live::default(),
            upstream: None,
        });
        let app = axum::Router::new()
            .route("/api/sync", axum::routing::get(live::upgrade))
            .route("/api/{version}/sync", axum::routing::get(live::upgrade))
            .fallback(server::handle)
            .with_state(shared.clone());
        let (shutdown, mut stopped) = watch::channel(false);
        let serve = axum::serve(
            KillableListener::new(listener),
            app.into_make_service_with_connect_info::<Connection>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        });
        tokio::spawn(async move {
            let _ = serve.await;
        });
        Ok(TestDeployment {
            url,
            client,
            shared,
            shutdown,
        })
    }
}

impl fmt::Debug for TestDeploymentBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestDeploymentBuilder")
            .field("functions", &Functions(&self.functions))
            .field("admin_key", &"[redacted]")
            .field("tokens", &self.tokens.len())
            .field("max_recorded_calls", &self.max_recorded_calls)
            .finish()
    }
}

/// The registered functions, sorted by path, for `Debug`.
struct Functions<'a>(&'a HashMap<String, Registered>);

impl fmt::Debug for Functions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut paths: Vec<_> = self.0.iter().collect();
        paths.sort_by(|a, b| a.0.cmp(b.0));
        f.debug_map().entries(paths).finish()
    }
}

/// Locks a mutex, going on after a panic elsewhere: the data stays consistent at every unlock.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The README's example, compiled and run.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
