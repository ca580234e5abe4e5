//! A deployment running real Convex TypeScript functions: a `convex/` folder served on `127.0.0.1` by the
//! Node server in this crate's `js/` folder, which runs the functions with the official
//! [`convex-test`](https://www.npmjs.com/package/convex-test) package.
//!
//! ```no_run
//! use convex_fetch_testing::JsDeployment;
//! use serde_json::json;
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let deployment = JsDeployment::builder("convex")
//!     .run("init") // an internal mutation that inserts the starting data
//!     .token("user-token", json!({ "subject": "user_1", "name": "Ada" }))
//!     .start()
//!     .await?;
//! let posts: serde_json::Value = deployment
//!     .client()
//!     .query("posts:list", json!({ "status": "published" }))
//!     .await?;
//! assert_eq!(deployment.calls()[0].path, "posts:list");
//! # let _ = posts; Ok(()) }
//! ```
//!
//! It needs Node.js 20.6 or later with npm (`node` on `PATH`, or the executable named by
//! `CONVEX_TEST_NODE`). The Node server's npm packages (`convex`, `convex-test`, `tsx`, at the versions of
//! its lockfile) install themselves: the first start runs `npm ci` once into a cache folder of its own,
//! keyed by this crate's version and the lockfile (`$XDG_CACHE_HOME` or `~/.cache` followed by
//! `convex-fetch-testing`, or [`CACHE_DIR_ENV`], or [`package_cache`](JsDeploymentBuilder::package_cache)),
//! never into cargo's registry, and logs one line at `info` saying so. Many tests starting at once share
//! that one install (a file lock orders them), and a killed install is started anew. Set
//! [`NO_INSTALL_ENV`] to forbid installing (a hermetic CI); a server folder whose own `node_modules/`
//! has the packages (a checkout after `npm ci --prefix testing/js`, or [`JS_DIR_ENV`] naming one) is used as
//! it is.
//!
//! When the project around the `convex/` folder has its own `node_modules/convex` and
//! `node_modules/convex-test` (as a Convex app following Convex's testing guide does), at versions
//! compatible with the pinned ones and not older (`convex` 1.x from 1.48.0, `convex-test` 0.0.x from
//! 0.0.71), the functions run with those, the `convex` the app deploys with; a `debug` log line says which
//! were used.
//!
//! Requests reach the Node server through a front on its own port, which records them and applies
//! [`set_latency`](JsDeployment::set_latency) and [`fail_next`](JsDeployment::fail_next) as
//! [`TestDeployment`](crate::TestDeployment) does. The front also serves `/api/sync` (live queries and
//! socket calls) with the sync sessions of `TestDeployment`, which run each function on the Node server
//! with the session's credential; every mutation or action answered through the front (HTTP or socket)
//! wakes them to re-run their queries. The Node server runs for as long as the
//! [`JsDeployment`] lives: dropping it kills the process, and the server also exits when its stdin closes,
//! so it does not outlive a test process that dies without dropping it.

mod app_packages;
mod error;
mod install;
mod launch;
mod proxy;
#[cfg(test)]
mod tests;

pub use error::{JsError, MIN_NODE_VERSION};
pub use install::{CACHE_DIR_ENV, NO_INSTALL_ENV, NPM_ENV};

use crate::conn::{Connection, KillableListener};
use crate::live_state::Live;
use crate::lock;
use crate::record::{RecordedCall, Recorder};
use crate::routes::Routes;
use crate::shared::{Shared, Upstream};
use convex_fetch::Client;
use launch::{Locations, Process};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// The environment variable naming the Node.js executable (default: `node` on `PATH`).
pub const NODE_ENV: &str = "CONVEX_TEST_NODE";

/// The environment variable naming the Node server's folder, the one holding its `package.json` (default:
/// this crate's `js/` folder).
pub const JS_DIR_ENV: &str = "CONVEX_TEST_JS_DIR";

/// How long the Node server is given to load the functions and listen, unless
/// [`JsDeploymentBuilder::startup_timeout`] says otherwise.
pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// The `url` field of a spec printed by [`function_spec`].
pub const DEFAULT_SPEC_URL: &str = "http://127.0.0.1:3210";

/// The folder to run the Node scripts of `dir` from (a folder with a `package.json` and a
/// `package-lock.json`), with every dependency of its `package.json` resolvable: `dir` itself when its
/// `node_modules/` has them, else a copy of it in the package cache, where the packages are installed from
/// the lockfile the first time, as the [module documentation](self) says of the Node server's own.
///
/// Blocking: the first call may run `npm ci` for a minute or more.
pub fn installed_copy(dir: impl AsRef<Path>) -> Result<PathBuf, JsError> {
    install::prepare(dir.as_ref(), None, install::may_install())
}

/// A `convex/` folder's TypeScript functions served on `127.0.0.1` by Node.js and `convex-test`.
///
/// Start one with [`JsDeployment::builder`]; it serves until dropped. See the [module
/// documentation](self).
pub struct JsDeployment {
    url: String,
    site_url: String,
    /// The Node server's own API URL, behind the front.
    upstream: String,
    client: Client,
    /// The front's state: the Node server, the recorder, faults, credentials and the sync sessions.
    front: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    _process: Process,
}

impl JsDeployment {
    /// A builder for the functions in `convex_dir` (the folder holding `schema.ts` and the modules).
    pub fn builder(convex_dir: impl Into<PathBuf>) -> JsDeploymentBuilder {
        JsDeploymentBuilder {
            convex_dir: convex_dir.into(),
            admin_key: None,
            tokens: HashMap::new(),
            run: Vec::new(),
            redact_errors: false,
            max_recorded_calls: crate::DEFAULT_MAX_RECORDED_CALLS,
            node: None,
            js_dir: None,
            package_cache: None,
            startup_timeout: DEFAULT_STARTUP_TIMEOUT,
        }
    }

    /// The deployment URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The site URL, where the routes of `http.ts` are served at the paths they declare
    /// (`GET <site_url>/posts`), and where [`client`](Self::client)'s HTTP-action calls go. Requests to it are
    /// not recorded and see no faults.
    pub fn site_url(&self) -> &str {
        &self.site_url
    }

    /// A client of this deployment, with default settings (no credentials).
    ///
    /// For credentials or a retry policy, build one with `Client::builder(deployment.url())`.
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// The admin key, for `Client::builder(…).admin_key(…)` or a call's `.admin_key(…)`: the one set with
    /// [`JsDeploymentBuilder::admin_key`], or a random one.
    pub fn admin_key(&self) -> &str {
        &self.front.admin_key
    }

    /// The requests that named a function, oldest first (at most the builder's
    /// [`max_recorded_calls`](JsDeploymentBuilder::max_recorded_calls)), whether or not the function ran.
    /// The kind of a call through `/api/run/…` or `/api/function` is recorded as `Query`.
    pub fn calls(&self) -> Vec<RecordedCall> {
        lock(&self.front.recorder).calls()
    }

    /// Forgets the recorded requests and the dropped count.
    pub fn clear_calls(&self) {
        lock(&self.front.recorder).clear();
    }

    crate::controls!(front);
}

impl Drop for JsDeployment {
    fn drop(&mut self) {
        // Stops the front; dropping the process then closes the server's stdin and kills it.
        let _ = self.shutdown.send(true);
    }
}

impl fmt::Debug for JsDeployment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsDeployment")
            .field("url", &self.url)
            .field("site_url", &self.site_url)
            .field("upstream", &self.upstream)
            .field("admin_key", &"[redacted]")
            .field("tokens", &self.front.tokens.len())
            .field("recorded_calls", &lock(&self.front.recorder).calls().len())
            .field("pending_faults", &self.pending_faults())
            .finish()
    }
}

/// Options of a [`JsDeployment`]: the tokens it accepts, the functions run before serving, where Node.js
/// is; then [`start`](Self::start).
#[must_use = "call `.start().await` to serve the deployment"]
pub struct JsDeploymentBuilder {
    convex_dir: PathBuf,
    admin_key: Option<String>,
    tokens: HashMap<String, serde_json::Value>,
    run: Vec<String>,
    redact_errors: bool,
    max_recorded_calls: usize,
    node: Option<PathBuf>,
    js_dir: Option<PathBuf>,
    package_cache: Option<PathBuf>,
    startup_timeout: Duration,
}

impl JsDeploymentBuilder {
    /// The admin key (`Authorization: Convex <key>`) to accept. Default: a random one.
    pub fn admin_key(mut self, key: impl Into<String>) -> Self {
        self.admin_key = Some(key.into());
        self
    }

    /// Accepts `Authorization: Bearer <token>` as the user `identity` (what `ctx.auth.getUserIdentity()`
    /// returns, e.g. `{"subject": "user_1", "name": "Ada"}`). Any other bearer token is refused with 401
    /// `InvalidAuthHeader`, as an expired or forged JWT is.
    pub fn token(mut self, token: impl Into<String>, identity: serde_json::Value) -> Self {
        self.tokens.insert(token.into(), identity);
        self
    }

    /// Runs the function at `path` (any kind or visibility, as admin, with args `{}`) once the functions are
    /// loaded, before serving: `run("init")` inserts starting data. Repeatable; they run in order, and the
    /// start fails if one throws.
    pub fn run(mut self, path: impl Into<String>) -> Self {
        self.run.push(path.into());
        self
    }

    /// Answers failures as production deployments do: `errorMessage` is only `[Request ID: …] Server
    /// Error` (a `ConvexError`'s `errorData` is still sent) and no log lines are sent.
    pub fn redact_errors(mut self) -> Self {
        self.redact_errors = true;
        self
    }

    /// How many requests [`JsDeployment::calls`] remembers. Default
    /// [`DEFAULT_MAX_RECORDED_CALLS`](crate::DEFAULT_MAX_RECORDED_CALLS).
    pub fn max_recorded_calls(mut self, max: usize) -> Self {
        self.max_recorded_calls = max;
        self
    }

    /// The Node.js executable. Default: [`NODE_ENV`] if set, else `node` on `PATH`.
    pub fn node(mut self, node: impl Into<PathBuf>) -> Self {
        self.node = Some(node.into());
        self
    }

    /// The Node server's folder (holding its `package.json`, `src/` and `node_modules/`). Default:
    /// [`JS_DIR_ENV`] if set, else this crate's `js/` folder.
    pub fn js_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.js_dir = Some(dir.into());
        self
    }

    /// Where the Node server's npm packages are installed when its folder does not have them. Default:
    /// [`CACHE_DIR_ENV`] if set, else `convex-fetch-testing` in the user's cache folder. See the [module
    /// documentation](self) for when they are installed.
    pub fn package_cache(mut self, dir: impl Into<PathBuf>) -> Self {
        self.package_cache = Some(dir.into());
        self
    }

    /// How long the Node server is given to load the functions, run the [`run`](Self::run) functions and
    /// listen. Default [`DEFAULT_STARTUP_TIMEOUT`].
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    /// Checks Node.js, the Node server and the folder, starts the server and waits until it serves, on the
    /// current Tokio runtime. The deployment serves until the returned handle is dropped.
    pub async fn start(self) -> Result<JsDeployment, JsError> {
        let mut locations = Locations::resolve(self.node, self.js_dir, self.package_cache);
        let convex_dir = locations.check(&self.convex_dir).await?;
        let mut args = Vec::new();
        // Secrets go in files only this user can read, not on the command line: every local user can read a
        // process's arguments (`/proc/<pid>/cmdline`). Tokens may hold `=` too.
        let admin_key = match &self.admin_key {
            Some(key) => Some(SecretFile::write("admin-key", key)?),
            None => None,
        };
        if let Some(file) = &admin_key {
            args.extend(["--admin-key-file".to_owned(), file.0.display().to_string()]);
        }
        let identities = match self.tokens.is_empty() {
            true => None,
            false => Some(SecretFile::write(
                "identities",
                &serde_json::to_string(&self.tokens).unwrap_or_default(),
            )?),
        };
        if let Some(file) = &identities {
            args.extend(["--identities".to_owned(), file.0.display().to_string()]);
        }
        for path in &self.run {
            args.extend(["--run".to_owned(), path.clone()]);
        }
        if self.redact_errors {
            args.push("--redact".to_owned());
        }
        let (process, line) =
            launch::start(&locations, &convex_dir, &args, self.startup_timeout).await?;
        drop((admin_key, identities));
        let address = Address::parse(&line)?;

        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(|source| io_error("binding the front on 127.0.0.1", source))?;
        let url = format!(
            "http://{}",
            listener
                .local_addr()
                .map_err(|source| io_error("reading the front's address", source))?
        );
        // Its HTTP actions are on a port of their own: the client's `http` calls go there.
        let client = Client::builder(url.clone())
            .site_url(address.site_url.clone())
            .build()
            .map_err(|err| io_error("building the client", std::io::Error::other(err)))?;
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|err| io_error("building the front's client", std::io::Error::other(err)))?;
        let front = Arc::new(Shared {
            functions: HashMap::new(),
            admin_key: address.admin_key,
            tokens: self.tokens,
            recorder: Mutex::new(Recorder::new(self.max_recorded_calls)),
            faults: Mutex::new(VecDeque::new()),
            latency: Mutex::new(Duration::ZERO),
            ts: AtomicU64::new(0),
            snapshot_lifetime: convex_fetch::SNAPSHOT_LIFETIME,
            redact_errors: self.redact_errors,
            request_ids: AtomicU64::new(0),
            states: Arc::default(),
            routes: Routes::default(),
            files: Arc::default(),
            live: Live::default(),
            upstream: Some(Upstream {
                url: address.url.clone(),
                http,
            }),
        });
        // `/api/sync` is served here, by the Rust sync sessions, which run each function on the Node server.
        let app = axum::Router::new()
            .route("/api/sync", axum::routing::get(crate::live::upgrade))
            .route(
                "/api/{version}/sync",
                axum::routing::get(crate::live::upgrade),
            )
            .fallback(proxy::handle)
            .with_state(front.clone());
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
        Ok(JsDeployment {
            url,
            site_url: address.site_url,
            upstream: address.url,
            client,
            front,
            shutdown,
            _process: process,
        })
    }
}

impl fmt::Debug for JsDeploymentBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsDeploymentBuilder")
            .field("convex_dir", &self.convex_dir)
            .field("admin_key", &self.admin_key.as_ref().map(|_| "[redacted]"))
            .field("tokens", &self.tokens.len())
            .field("run", &self.run)
            .field("redact_errors", &self.redact_errors)
            .field("node", &self.node)
            .field("js_dir", &self.js_dir)
            .field("package_cache", &self.package_cache)
            .field("startup_timeout", &self.startup_timeout)
            .finish()
    }
}

/// The function spec of `convex_dir`, as `npx convex function-spec` prints it (its `url` field is
/// [`DEFAULT_SPEC_URL`]), computed by the Node server without a deployment.
///
/// Node.js and the Node server are found as [`JsDeployment`] finds them ([`NODE_ENV`], [`JS_DIR_ENV`]).
pub async fn function_spec(convex_dir: impl AsRef<Path>) -> Result<String, JsError> {
    function_spec_at(convex_dir, DEFAULT_SPEC_URL).await
}

/// [`function_spec`] with `url` as the spec's `url` field (the deployment URL it names).
pub async fn function_spec_at(convex_dir: impl AsRef<Path>, url: &str) -> Result<String, JsError> {
    function_spec_with(convex_dir, &SpecOptions::new().url(url)).await
}

/// How [`function_spec_with`] prints a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecOptions {
    url: String,
    infer: bool,
    timeout: Duration,
}

impl SpecOptions {
    /// The defaults: `url` [`DEFAULT_SPEC_URL`], results inferred, [`DEFAULT_SPEC_TIMEOUT`].
    pub fn new() -> SpecOptions {
        SpecOptions {
            url: DEFAULT_SPEC_URL.to_owned(),
            infer: true,
            timeout: DEFAULT_SPEC_TIMEOUT,
        }
    }

    /// The spec's `url` field: the deployment URL it names.
    pub fn url(mut self, url: impl Into<String>) -> SpecOptions {
        self.url = url.into();
        self
    }

    /// Whether each function without a returns validator gets an `inferredReturns` field: its result type
    /// inferred from the folder's TypeScript (on by default; see the Node server's README). Off, the spec is
    /// exactly the fields `npx convex function-spec` prints.
    pub fn infer_returns(mut self, infer: bool) -> SpecOptions {
        self.infer = infer;
        self
    }

    /// How long loading the functions and printing the spec may take.
    pub fn timeout(mut self, timeout: Duration) -> SpecOptions {
        self.timeout = timeout;
        self
    }
}

impl Default for SpecOptions {
    fn default() -> SpecOptions {
        SpecOptions::new()
    }
}

/// How long printing a spec is given by default: loading the functions, then type-checking the folder to
/// infer results, which takes seconds to a minute for a large app on a busy machine.
pub const DEFAULT_SPEC_TIMEOUT: Duration = Duration::from_secs(180);

/// The function spec of `convex_dir` printed with `options`: by default, [`function_spec`]'s, each function
/// without a returns validator also carrying the `inferredReturns` that `convex::api!` reads as its result type.
/// What the inference skipped or could only type as `any` is not returned: `node testing/js/src/main.js <dir>
/// --spec` prints it on stderr, a line per field.
pub async fn function_spec_with(
    convex_dir: impl AsRef<Path>,
    options: &SpecOptions,
) -> Result<String, JsError> {
    let mut locations = Locations::resolve(None, None, None);
    let convex_dir = locations.check(convex_dir.as_ref()).await?;
    let mut args = vec!["--spec".to_owned(), "--url".to_owned(), options.url.clone()];
    if !options.infer {
        args.push("--no-infer".to_owned());
    }
    launch::output(&locations, &convex_dir, &args, options.timeout).await
}

/// The environment variable that makes [`check_function_spec`] write the spec instead of comparing it.
pub const UPDATE_SPEC_ENV: &str = "CONVEX_UPDATE_SPEC";

/// Checks that the committed function spec `spec_file` is the spec the functions of `convex_dir` give today,
/// as a test that keeps stubs checked against a current spec (`CONVEX_FUNCTION_SPEC`) and `api!` current.
/// The `url` field is not compared: it names a deployment, not the functions.
///
/// With [`UPDATE_SPEC_ENV`] set (`CONVEX_UPDATE_SPEC=1 cargo test`), it writes the current spec to
/// `spec_file` instead, keeping the file's `url` if it has one: the way to make the first spec, or to take
/// a change in the functions.
///
/// ```no_run
/// #[tokio::test]
/// async fn the_function_spec_is_current() {
///     convex_fetch_testing::js::check_function_spec("convex", "convex/function_spec.json")
///         .await
///         .unwrap();
/// }
/// ```
pub async fn check_function_spec(
    convex_dir: impl AsRef<Path>,
    spec_file: impl AsRef<Path>,
) -> Result<(), JsError> {
    let spec_file = spec_file.as_ref();
    let committed = std::fs::read_to_string(spec_file).ok();
    let parsed = committed
        .as_deref()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok());
    let url = parsed
        .as_ref()
        .and_then(|spec| spec["url"].as_str())
        .unwrap_or(DEFAULT_SPEC_URL)
        .to_owned();
    let current = function_spec_at(convex_dir.as_ref(), &url).await?;
    if std::env::var_os(UPDATE_SPEC_ENV).is_some_and(|value| !value.is_empty() && value != "0") {
        if committed.as_deref() != Some(current.as_str()) {
            std::fs::write(spec_file, &current).map_err(|source| JsError::Io {
                context: format!("writing `{}`", spec_file.display()),
                source,
            })?;
        }
        return Ok(());
    }
    let without_url = |mut spec: serde_json::Value| {
        if let Some(object) = spec.as_object_mut() {
            object.remove("url");
        }
        spec
    };
    let current_parsed: serde_json::Value =
        serde_json::from_str(&current).map_err(|err| JsError::Handshake(err.to_string()))?;
    if parsed.map(without_url) == Some(without_url(current_parsed)) {
        return Ok(());
    }
    Err(JsError::StaleSpec {
        file: spec_file.to_owned(),
        dir: convex_dir.as_ref().to_owned(),
    })
}

fn io_error(context: &str, source: std::io::Error) -> JsError {
    JsError::Io {
        context: context.to_owned(),
        source,
    }
}

/// The server's first line: `{"url":…,"siteUrl":…,"adminKey":…}`.
struct Address {
    url: String,
    site_url: String,
    admin_key: String,
}

impl Address {
    fn parse(line: &str) -> Result<Address, JsError> {
        // The line holds the admin key: errors describe it, never quote it.
        let value: serde_json::Value = serde_json::from_str(line)
            .map_err(|err| JsError::Handshake(format!("not JSON ({err})")))?;
        let field = |name: &str| {
            value[name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| JsError::Handshake(format!("no string `{name}`")))
        };
        Ok(Address {
            url: field("url")?,
            site_url: field("siteUrl")?,
            admin_key: field("adminKey")?,
        })
    }
}

/// A secret (the admin key, the tokens) in a file only this user can read, for the server to read at start;
/// removed when dropped.
struct SecretFile(PathBuf);

impl SecretFile {
    fn write(what: &str, text: &str) -> Result<SecretFile, JsError> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "convex-fetch-testing-{what}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        // Readable by this user only: it holds a secret.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        // A file left by a process of the same id that died before removing its own is replaced.
        let file = options.open(&path).or_else(|err| {
            if err.kind() != std::io::ErrorKind::AlreadyExists {
                return Err(err);
            }
            std::fs::remove_file(&path)?;
            options.open(&path)
        });
        let written =
            file.and_then(|mut file| std::io::Write::write_all(&mut file, text.as_bytes()));
        written.map_err(|source| io_error(&format!("writing `{}`", path.display()), source))?;
        Ok(SecretFile(path))
    }
}

impl Drop for SecretFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
