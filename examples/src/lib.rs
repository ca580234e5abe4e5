//! Runnable examples of convex-fetch: server code calling Convex queries, mutations and actions.
//!
//! Each module is one pattern, as a small axum app with a `router(state)`; each has a thin binary in
//! `examples/examples/` and an end-to-end test in `tests/tests/suite/examples_*.rs` (the quick start's run
//! each in a process of its own, as it sets the process-wide default client).
//!
//! | module | pattern |
//! |---|---|
//! | [`quickstart`] | a query, a mutation, an action, an authenticated call and a handled `ConvexError` |
//! | [`posts`] | routes that call a query, a mutation and an action |
//! | [`stripe_webhook`] | a verified Stripe webhook that writes with mutations |
//! | [`authenticated_route`] | a session cookie exchanged for a JWT, then a call as that user |
//! | [`cron_trigger`] | a secret-protected endpoint that runs an action |
//! | [`analytics_middleware`] | middleware recording page views as bounded fire-and-forget mutations |
//! | [`github_import`] | data fetched from another API, stored with one mutation |
//! | [`error_handling`] | one `IntoResponse` for `convex::Error` |
//! | [`http_actions`] | a route forwarding to an HTTP action of the deployment, by its `api!` route constant |
//! | [`file_upload`] | uploads streamed to Convex file storage, and downloads streamed back |
//! | [`live_updates`] | a query's updates streamed to browsers as server-sent events |
//!
//! The functions called are declared once, in [`api`], and written in TypeScript in `examples/convex/`.
//! Without `CONVEX_URL`, the binaries run those functions on this machine ([`local`]: Node.js and
//! `convex-test`); the quick start falls back to [`demo`], its functions in Rust, when Node.js or its
//! packages are missing.

pub mod analytics_middleware;
pub mod api;
pub mod authenticated_route;
pub mod cron_trigger;
pub mod demo;
pub mod error_handling;
pub mod file_upload;
pub mod generated;
pub mod github_import;
pub mod http_actions;
pub mod live_updates;
pub mod local;
pub mod posts;
pub mod quickstart;
pub mod stripe_webhook;

use convex_fetch_testing::{JsDeployment, TestDeployment};
use std::fmt;

/// The deployment the binaries talk to: the one `CONVEX_URL` names, or one on this machine.
pub struct Backend {
    client: convex::Client,
    /// Keeps a local deployment serving; `None` for a real deployment.
    local: Option<Local>,
    /// Why the TypeScript functions are not the ones running, when they are not.
    fallback: Option<String>,
}

/// A deployment on this machine, held to keep it serving.
enum Local {
    /// The TypeScript functions of `examples/convex`, run by Node.js.
    Js(Box<JsDeployment>),
    /// The Rust stand-ins of [`demo`].
    Rust(TestDeployment),
}

impl Local {
    fn describe(&self) -> String {
        match self {
            Local::Js(deployment) => format!("TypeScript functions at {}", deployment.url()),
            Local::Rust(deployment) => format!("Rust demo at {}", deployment.url()),
        }
    }
}

impl Backend {
    /// Connects to `CONVEX_URL`; when it is unset, starts the TypeScript functions of [`local`], which
    /// needs Node.js and the packages of `convex-fetch-testing`'s Node server (the error says what to
    /// install).
    pub async fn from_env() -> Result<Backend, Failure> {
        if let Some(backend) = Backend::remote()? {
            return Ok(backend);
        }
        let deployment = local::start().await?;
        Ok(Backend {
            client: deployment.client(),
            local: Some(Local::Js(Box::new(deployment))),
            fallback: None,
        })
    }

    /// Like [`from_env`](Self::from_env), but when the TypeScript functions cannot run, starts the Rust
    /// [`demo`] deployment instead (the quick start's functions only); [`fallback`](Self::fallback) says
    /// why.
    pub async fn from_env_or_demo() -> Result<Backend, Failure> {
        if let Some(backend) = Backend::remote()? {
            return Ok(backend);
        }
        match local::start().await {
            Ok(deployment) => Ok(Backend {
                client: deployment.client(),
                local: Some(Local::Js(Box::new(deployment))),
                fallback: None,
            }),
            Err(err) => {
                tracing::warn!(error = %err, "the TypeScript functions cannot run: using the Rust demo deployment");
                let demo = demo::start().await;
                Ok(Backend {
                    client: demo.client(),
                    local: Some(Local::Rust(demo)),
                    fallback: Some(err.to_string()),
                })
            }
        }
    }

    /// The deployment `CONVEX_URL` names, if it is set.
    fn remote() -> Result<Option<Backend>, convex::Error> {
        if !std::env::var(convex::CONVEX_URL_ENV).is_ok_and(|url| !url.trim().is_empty()) {
            return Ok(None);
        }
        Ok(Some(Backend {
            client: convex::Client::from_env()?,
            local: None,
            fallback: None,
        }))
    }

    /// A client of the deployment.
    pub fn client(&self) -> convex::Client {
        self.client.clone()
    }

    /// Whether the deployment runs on this machine (the TypeScript functions or the Rust demo), rather than
    /// being the one `CONVEX_URL` names.
    pub fn is_demo(&self) -> bool {
        self.local.is_some()
    }

    /// Whether the deployment runs the TypeScript functions of `examples/convex` on this machine.
    pub fn is_typescript(&self) -> bool {
        matches!(self.local, Some(Local::Js(_)))
    }

    /// Why the Rust demo deployment runs instead of the TypeScript functions, when
    /// [`from_env_or_demo`](Self::from_env_or_demo) started it.
    pub fn fallback(&self) -> Option<&str> {
        self.fallback.as_deref()
    }

    /// A setting read from the environment variable `name`. Against a local deployment an unset variable
    /// falls back to `demo_value`; against a real one it is an error, so that no secret has a default.
    pub fn setting(&self, name: &str, demo_value: &str) -> Result<String, MissingSetting> {
        match std::env::var(name) {
            Ok(value) if !value.trim().is_empty() => Ok(value),
            _ if self.is_demo() => Ok(demo_value.to_owned()),
            _ => Err(MissingSetting(name.to_owned())),
        }
    }
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backend")
            .field("url", &self.client.url())
            .field("demo", &self.is_demo())
            .field("local", &self.local.as_ref().map(Local::describe))
            .finish()
    }
}

/// A required environment variable is not set.
#[derive(Debug)]
pub struct MissingSetting(pub String);

impl fmt::Display for MissingSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is not set (it is needed when CONVEX_URL names a real deployment)",
            self.0
        )
    }
}

impl std::error::Error for MissingSetting {}

/// The error of the examples' `main` and of [`quickstart::run`]: any error, shown by its message.
///
/// `?` converts every error type into it; `main` returning `Result<(), Failure>` prints
/// `Error: <message>` rather than the error's `Debug` form.
pub struct Failure(Box<dyn std::error::Error + Send + Sync>);

impl<E: std::error::Error + Send + Sync + 'static> From<E> for Failure {
    fn from(err: E) -> Self {
        Failure(Box::new(err))
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Logs to stderr at `info` unless `RUST_LOG` says otherwise.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// The address the binaries serve on.
pub const ADDRESS: &str = "127.0.0.1:3000";

/// Serves `app` on [`ADDRESS`] until ctrl-c.
pub async fn serve(app: axum::Router) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(ADDRESS).await?;
    tracing::info!("listening on http://{ADDRESS} (ctrl-c to stop)");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

/// Serves `app` on a free port of 127.0.0.1 in a background task, for as long as the runtime runs, and
/// returns its base URL, `http://127.0.0.1:<port>`: for tests and local stand-ins.
pub async fn spawn(app: axum::Router) -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app).await {
            tracing::error!(error = %err, "a spawned server stopped");
        }
    });
    Ok(url)
}

/// An HTTP client for the APIs the examples call besides Convex, with a 10-second timeout.
pub fn http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .user_agent("convex-fetch-examples")
        .build()
}

/// Milliseconds since the Unix epoch, as JavaScript's `Date.now()`.
pub(crate) fn now_millis() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(now.as_millis()).unwrap_or(u64::MAX)
}
