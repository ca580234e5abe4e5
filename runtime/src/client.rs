//! The deployment client, its builder, and the process-wide default client.

use crate::error::{Error, ErrorKind};
use crate::function::FunctionKind;
use crate::limit::InFlight;
use crate::live_settings::{LiveSettings, SocketRoute, SocketTls};
use crate::options::{FetchOptions, option_setters};
use crate::retry::RetryPolicy;
use crate::secret::redact_password;
use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// The environment variable the default client reads its deployment URL from.
pub const CONVEX_URL_ENV: &str = "CONVEX_URL";

/// The environment variable [`Client::from_env`] (and so the default client) reads the site URL from, where
/// HTTP actions are served (`https://<name>.convex.site`); when it is unset or empty the site URL is derived
/// from the deployment URL.
pub const CONVEX_SITE_URL_ENV: &str = "CONVEX_SITE_URL";

/// How long a call may take, retries included, unless the client or the call says otherwise.
///
/// Queries and mutations are limited by Convex to seconds; an action may run for minutes, so calls to long
/// actions should raise it with `.timeout(…)`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// How long establishing a connection (TCP and TLS) may take.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest response body a call reads before failing; a broken or hostile server cannot exhaust memory.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// A client of one Convex deployment. Cheap to clone: clones share one connection pool.
///
/// ```
/// use convex_fetch::Client;
/// use std::time::Duration;
///
/// let client = Client::builder("https://happy-otter-123.convex.cloud")
///     .timeout(Duration::from_secs(5))
///     .build()?;
/// assert_eq!(client.url(), "https://happy-otter-123.convex.cloud");
/// # Ok::<(), convex_fetch::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// The deployment URL as given (trimmed), credentials included: what requests are sent to.
    full_url: String,
    /// The same without a password, for [`Client::url`], so that the application cannot show one by mistake.
    url: String,
    /// The URLs of the query, mutation and action endpoints, parsed once: a call clones one rather than
    /// formatting and parsing its URL again.
    function_urls: [(&'static str, reqwest::Url); 3],
    /// The options of every call, under the call's own; the timeout is always set.
    defaults: FetchOptions,
    retry: RetryPolicy,
    max_response_bytes: usize,
    in_flight: InFlight,
    /// Where HTTP actions are served, without a trailing slash, credentials included.
    full_site_url: String,
    /// The same without a password, for [`Client::site_url`].
    site_url: String,
    max_file_bytes: Option<u64>,
    live: LiveSettings,
    /// The TLS settings of the live connection's WebSocket.
    socket_tls: SocketTls,
    /// The live connections (the sync module's hub), made on first use; typed there, so that this module
    /// need not know it.
    sync: OnceLock<Arc<dyn Any + Send + Sync>>,
}

/// What [`Call::on`](crate::Call::on) takes: a [`Client`], or a reference to one.
#[diagnostic::on_unimplemented(
    message = "`.on(…)` takes a `Client` or `&Client`, not `{Self}`",
    label = "expected a client here",
    note = "to call the deployment at a URL, write `.url(\"https://…\")`; to keep a client, build it once with `Client::new(url)?`"
)]
pub trait IntoClient {
    /// The client.
    fn into_client(self) -> Client;
}

impl IntoClient for Client {
    fn into_client(self) -> Client {
        self
    }
}

impl IntoClient for &Client {
    fn into_client(self) -> Client {
        self.clone()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("url", &redact_password(&self.inner.full_url))
            .field("defaults", &self.inner.defaults)
            .field("retry", &self.inner.retry)
            .field("max_response_bytes", &self.inner.max_response_bytes)
            .field("in_flight", &self.inner.in_flight)
            .field("site_url", &redact_password(&self.inner.full_site_url))
            .field("max_file_bytes", &self.inner.max_file_bytes)
            .finish()
    }
}

impl Client {
    /// A client of the deployment at `url` with default settings.
    pub fn new(url: impl Into<String>) -> Result<Client, Error> {
        Client::builder(url).build()
    }

    /// A client of the deployment named by the `CONVEX_URL` environment variable, with its HTTP actions at
    /// `CONVEX_SITE_URL` when that is set (as `npx convex dev` writes both to `.env.local`); otherwise the site
    /// URL is derived from the deployment URL (see [`ClientBuilder::site_url`]).
    pub fn from_env() -> Result<Client, Error> {
        match std::env::var(CONVEX_URL_ENV) {
            Ok(url) if !url.trim().is_empty() => {
                let builder = Client::builder(url);
                match std::env::var(CONVEX_SITE_URL_ENV) {
                    Ok(site) if !site.trim().is_empty() => match check_site_url(&site) {
                        Ok(site) => builder.site_url(site).build(),
                        Err(err) => match err.kind() {
                            ErrorKind::Config { message } => {
                                Err(Error::config(format!("{CONVEX_SITE_URL_ENV}: {message}")))
                            }
                            _ => Err(err),
                        },
                    },
                    _ => builder.build(),
                }
            }
            _ => Err(Error::config(format!(
                "{CONVEX_URL_ENV} is not set: set it to your deployment URL (https://<name>.convex.cloud), \
                 or install a client with `convex_fetch::set_default_client`"
            ))),
        }
    }

    /// A builder for a client of the deployment at `url`.
    pub fn builder(url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            url: url.into(),
            defaults: FetchOptions::new().timeout(DEFAULT_TIMEOUT),
            check_url: true,
            retry: RetryPolicy::default(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            http: Http::Own(Box::default()),
            in_flight: InFlight::default(),
            site_url: None,
            max_file_bytes: None,
            live: LiveSettings::default(),
        }
    }

    /// The deployment URL, without a trailing slash, and without the password if the URL held one
    /// (`https://user@host`): the client still sends it, but never shows it.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// The deployment URL with its credentials, for the requests themselves.
    pub(crate) fn full_url(&self) -> &str {
        &self.inner.full_url
    }

    /// The options of every call on this client, under the call's own.
    pub(crate) fn defaults(&self) -> &FetchOptions {
        &self.inner.defaults
    }

    pub(crate) fn reqwest(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// The deployment URL followed by `endpoint` (`/api/query`), parsed once for the endpoints of the three
    /// function kinds; `None` for others, which the caller formats itself.
    pub(crate) fn function_url(&self, endpoint: &str) -> Option<&reqwest::Url> {
        self.inner
            .function_urls
            .iter()
            .find(|(path, _)| *path == endpoint)
            .map(|(_, url)| url)
    }

    pub(crate) fn retry(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    pub(crate) fn max_response_bytes(&self) -> usize {
        self.inner.max_response_bytes
    }

    pub(crate) fn in_flight(&self) -> &InFlight {
        &self.inner.in_flight
    }

    /// The URL HTTP actions are served on, without a trailing slash: the one set with
    /// [`ClientBuilder::site_url`], else `https://<name>.convex.site` for a deployment at
    /// `https://<name>.convex.cloud`, else the deployment URL followed by `/http`, where a self-hosted
    /// backend (and the test deployment) serves them on its main port. Without the password if the URL held
    /// one, as [`url`](Self::url).
    pub fn site_url(&self) -> &str {
        &self.inner.site_url
    }

    /// The site URL with its credentials, for the requests themselves.
    pub(crate) fn full_site_url(&self) -> &str {
        &self.inner.full_site_url
    }

    pub(crate) fn max_file_bytes(&self) -> Option<u64> {
        self.inner.max_file_bytes
    }

    pub(crate) fn live_settings(&self) -> &LiveSettings {
        &self.inner.live
    }

    pub(crate) fn socket_tls(&self) -> &SocketTls {
        &self.inner.socket_tls
    }

    /// Where the sync module keeps this client's live connections.
    pub(crate) fn sync_slot(&self) -> &OnceLock<Arc<dyn Any + Send + Sync>> {
        &self.inner.sync
    }
}

/// Settings for a [`Client`].
///
/// The credential, timeout and verbosity set here are the defaults of every call on the client; a call's own
/// options win over them.
#[derive(Debug)]
#[must_use = "call `.build()` to get the client"]
pub struct ClientBuilder {
    url: String,
    defaults: FetchOptions,
    check_url: bool,
    retry: RetryPolicy,
    max_response_bytes: usize,
    http: Http,
    in_flight: InFlight,
    site_url: Option<String>,
    max_file_bytes: Option<u64>,
    live: LiveSettings,
}

/// Where the client's HTTP connections come from.
enum Http {
    /// A reqwest client built from these settings.
    Own(Box<HttpSettings>),
    /// The application's own reqwest client, used as it is.
    Given(reqwest::Client),
    /// A setting that cannot be applied (combined with `http_client`, or unreadable), reported at build.
    Invalid(String),
}

/// The settings of the connection the client builds for itself.
struct HttpSettings {
    connect_timeout: Duration,
    user_agent: Option<String>,
    root_certificates: Vec<reqwest::Certificate>,
    /// The same certificates as given, for the WebSocket of live queries.
    root_pems: Vec<Vec<u8>>,
    built_in_roots: bool,
    proxy: Option<reqwest::Proxy>,
    /// The proxy URL as given, shown in `Debug` with any password redacted.
    proxy_url: Option<String>,
    /// The first setting changed, which `http_client` would otherwise drop silently.
    first_set: Option<String>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            user_agent: None,
            root_certificates: Vec::new(),
            root_pems: Vec::new(),
            built_in_roots: true,
            proxy: None,
            proxy_url: None,
            first_set: None,
        }
    }
}

impl fmt::Debug for Http {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Http::Own(settings) => f
                .debug_struct("Own")
                .field("connect_timeout", &settings.connect_timeout)
                .field("user_agent", &settings.user_agent)
                .field("root_certificates", &settings.root_certificates.len())
                .field("built_in_roots", &settings.built_in_roots)
                .field("proxy", &settings.proxy_url.as_deref().map(redact_password))
                .finish(),
            Http::Given(_) => f.write_str("Given"),
            Http::Invalid(problem) => write!(f, "Invalid({problem:?})"),
        }
    }
}

impl ClientBuilder {
    option_setters!(defaults);

    /// The time establishing a connection may take. Default [`DEFAULT_CONNECT_TIMEOUT`].
    pub fn connect_timeout(self, timeout: Duration) -> Self {
        self.connection("connect_timeout", |http| http.connect_timeout = timeout)
    }

    /// The `User-Agent` header. Default `convex-fetch/<version>`.
    pub fn user_agent(self, user_agent: impl Into<String>) -> Self {
        let user_agent = user_agent.into();
        self.connection("user_agent", |http| http.user_agent = Some(user_agent))
    }

    /// Trusts the certificate authority of a PEM certificate (or bundle of them), besides the built-in
    /// roots: for a self-hosted deployment behind a private CA. A certificate that cannot be read fails
    /// [`build`](Self::build).
    ///
    /// ```no_run
    /// let ca = std::fs::read("/etc/ssl/private-ca.pem")?;
    /// let client = convex_fetch::Client::builder("https://convex.internal.example.com")
    ///     .add_root_certificate_pem(&ca)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_root_certificate_pem(self, pem: &[u8]) -> Self {
        match reqwest::Certificate::from_pem_bundle(pem) {
            Ok(certificates) if !certificates.is_empty() => {
                self.connection("add_root_certificate_pem", |http| {
                    http.root_certificates.extend(certificates);
                    http.root_pems.push(pem.to_vec());
                })
            }
            _ => self.invalid(
                "`add_root_certificate_pem`: the PEM holds no readable certificate".to_owned(),
            ),
        }
    }

    /// Whether the built-in (webpki) roots are trusted. Default `true`; turn it off to trust only the
    /// certificates added with [`add_root_certificate_pem`](Self::add_root_certificate_pem).
    pub fn built_in_root_certificates(self, trust: bool) -> Self {
        self.connection("built_in_root_certificates", |http| {
            http.built_in_roots = trust
        })
    }

    /// Sends every request through the proxy at `url` (`http://proxy.corp:3128`, credentials allowed in the
    /// URL; redacted in `Debug`, errors and [`Client::url`]). Without it, the `HTTPS_PROXY`/`HTTP_PROXY`/
    /// `ALL_PROXY`/`NO_PROXY` environment variables apply, as in any reqwest client, read when the client is
    /// built.
    ///
    /// The WebSocket of live queries takes the same route: directly, or through an `http://` proxy in a
    /// `CONNECT` tunnel. It never connects around a proxy: when the proxy is of another kind (`https://`,
    /// `socks5://`), live calls fail with a `Config` error.
    pub fn proxy(self, url: &str) -> Self {
        match reqwest::Proxy::all(url) {
            Ok(proxy) => self.connection("proxy", |http| {
                http.proxy_url = Some(url.to_owned());
                http.proxy = Some(proxy);
            }),
            // reqwest's message may quote the URL, and with it a password.
            Err(_) => self.invalid(format!(
                "`proxy`: `{}` is not a valid proxy URL",
                redact_password(url)
            )),
        }
    }

    /// Uses the application's own reqwest client (its TLS roots, proxy, pool and HTTP/2 settings) instead of
    /// building one. It is used as it is: the connection settings of this builder (`connect_timeout`,
    /// `user_agent`, root certificates, `proxy`) cannot be combined with it, and setting one is a `Config`
    /// error at [`build`](Self::build). Build it with `.redirect(reqwest::redirect::Policy::none())`: Convex
    /// never redirects its API, and a followed redirect could send a mutation to another origin.
    ///
    /// The type is reqwest's, re-exported as [`convex_fetch::reqwest`](crate::reqwest) so that the versions
    /// match.
    ///
    /// ```
    /// use convex_fetch::reqwest;
    ///
    /// let http = reqwest::Client::builder()
    ///     .redirect(reqwest::redirect::Policy::none())
    ///     .pool_max_idle_per_host(64)
    ///     .build()?;
    /// let client = convex_fetch::Client::builder("https://happy-otter-123.convex.cloud")
    ///     .http_client(http)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = match self.http {
            Http::Own(settings) => match settings.first_set {
                Some(setting) => Http::Invalid(combined(&setting)),
                None => Http::Given(client),
            },
            other => other,
        };
        self
    }

    /// At most `limit` calls of this client talk to the deployment at once; further calls wait for a free
    /// slot, and the wait counts against their timeout. Each attempt takes a slot and gives it back when its
    /// answer is read, so a call waiting to retry holds none.
    ///
    /// A deployment runs a limited number of functions at once, and refuses work beyond it with 429
    /// `TooManyConcurrentRequests` or lets it expire in its queue (503 `ExpiredInQueue`); a service that fans
    /// out (an import, a batch job, a burst of webhooks) stays under the limit with a cap a little below it.
    /// Waits are traced at `debug` level. Default: no limit. A limit of 0 is a `Config` error at build.
    pub fn max_in_flight(mut self, limit: usize) -> Self {
        self.in_flight.set_total(limit);
        self
    }

    /// Runs this client's mutations one at a time, each after the one before it has finished (retries
    /// included), in the order they were first polled: as the official JS client runs a client's mutations.
    /// The wait counts against each mutation's timeout. Queries and actions are not affected.
    ///
    /// Off by default: mutations of a server, usually for different users, are independent, and Convex runs
    /// each one as a serializable transaction anyway. Turn it on when one caller's writes must land in the
    /// order they were made (a queue of edits to one document). A timed-out mutation still may have run.
    pub fn ordered_mutations(mut self) -> Self {
        self.in_flight.order_mutations();
        self
    }

    /// At most `limit` calls of one kind in flight at once, within [`max_in_flight`](Self::max_in_flight):
    /// for example a few slots for long actions, so that they cannot take every slot from queries.
    pub fn max_in_flight_of(mut self, kind: FunctionKind, limit: usize) -> Self {
        self.in_flight.set_for(kind, limit);
        self
    }

    /// Which failures are retried, how often and how long apart.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The largest response body read before the call fails. Default [`DEFAULT_MAX_RESPONSE_BYTES`].
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// The URL the deployment serves HTTP actions on. Without it, `https://<name>.convex.site` for a
    /// deployment at `https://<name>.convex.cloud`, and the deployment URL followed by `/http` for any other
    /// (a self-hosted backend serves its HTTP actions there, as well as on its site port, 3211 by default):
    /// set it for a custom domain or a site proxy. Must be `http` or `https`; checked at build.
    pub fn site_url(mut self, url: impl Into<String>) -> Self {
        self.site_url = Some(url.into());
        self
    }

    /// The largest file [`Client::upload`] sends and [`Client::download`] reads, in bytes: a larger one fails
    /// with [`ErrorKind::TooLarge`](crate::ErrorKind::TooLarge). Default: no limit (files are streamed,
    /// never held in memory whole).
    pub fn max_file_bytes(mut self, limit: u64) -> Self {
        self.max_file_bytes = Some(limit);
        self
    }

    /// How the WebSocket of live queries ([`Call::subscribe`](crate::Call::subscribe)) reconnects, and when a
    /// silent one is replaced.
    pub fn live(mut self, settings: LiveSettings) -> Self {
        self.live = settings;
        self
    }

    /// Skips the check that the URL looks like a deployment URL (not a `.convex.site` HTTP-actions URL), for
    /// self-hosted backends behind unusual addresses. The URL must still be `http` or `https`.
    pub fn skip_url_check(mut self) -> Self {
        self.check_url = false;
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let url = check_url(&self.url, self.check_url)?;
        let site_url = match &self.site_url {
            Some(site) => check_site_url(site)?,
            None => derived_site_url(&url),
        };
        let socket_tls = match &self.http {
            Http::Own(settings) => SocketTls {
                roots_pem: settings.root_pems.clone(),
                built_in_roots: settings.built_in_roots,
                route: SocketRoute::to(&url, settings.proxy_url.as_deref()),
            },
            // An application's reqwest client does not say what it trusts or where it goes: the socket trusts
            // the built-in roots and follows the environment's proxy, as a reqwest client does by default.
            Http::Given(_) | Http::Invalid(_) => SocketTls {
                route: SocketRoute::to(&url, None),
                ..SocketTls::default()
            },
        };
        let http = match self.http {
            Http::Own(settings) => (*settings).build()?,
            Http::Given(client) => client,
            Http::Invalid(problem) => return Err(Error::config(problem)),
        };
        let function_url = |kind: FunctionKind| {
            let endpoint = kind.endpoint();
            // The deployment URL parsed above, so this parses too.
            reqwest::Url::parse(&format!("{url}{endpoint}"))
                .map(|parsed| (endpoint, parsed))
                .map_err(|e| {
                    let shown = redact_password(&url);
                    Error::config(format!("`{shown}{endpoint}` is not a valid URL ({e})"))
                })
        };
        let function_urls = [
            function_url(FunctionKind::Query)?,
            function_url(FunctionKind::Mutation)?,
            function_url(FunctionKind::Action)?,
        ];
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                url: without_password(&url),
                full_url: url,
                function_urls,
                defaults: self.defaults,
                retry: self.retry,
                max_response_bytes: self.max_response_bytes,
                in_flight: self.in_flight.build()?,
                site_url: without_password(&site_url),
                full_site_url: site_url,
                max_file_bytes: self.max_file_bytes,
                live: self.live,
                socket_tls,
                sync: OnceLock::new(),
            }),
        })
    }

    /// Applies a setting of the connection the client builds, or records why it cannot be applied.
    fn connection(mut self, setting: &str, apply: impl FnOnce(&mut HttpSettings)) -> Self {
        match &mut self.http {
            Http::Own(settings) => {
                settings.first_set.get_or_insert_with(|| setting.to_owned());
                apply(settings)
            }
            Http::Given(_) => self.http = Http::Invalid(combined(setting)),
            Http::Invalid(_) => {}
        }
        self
    }

    /// Records a setting that cannot be applied, reported by `build`.
    fn invalid(mut self, problem: String) -> Self {
        self.http = Http::Invalid(problem);
        self
    }
}

fn combined(setting: &str) -> String {
    format!("`{setting}` cannot be combined with `http_client`: set it on your reqwest client")
}

impl HttpSettings {
    fn build(self) -> Result<reqwest::Client, Error> {
        let user_agent = self
            .user_agent
            .unwrap_or_else(|| concat!("convex-fetch/", env!("CARGO_PKG_VERSION")).to_owned());
        let mut builder = reqwest::Client::builder()
            .user_agent(user_agent)
            .connect_timeout(self.connect_timeout)
            .tls_built_in_root_certs(self.built_in_roots)
            // Convex never redirects its API; following one could send a mutation to another origin.
            .redirect(reqwest::redirect::Policy::none());
        for certificate in self.root_certificates {
            builder = builder.add_root_certificate(certificate);
        }
        if let Some(proxy) = self.proxy {
            builder = builder.proxy(proxy);
        }
        builder
            .build()
            // Without the URL: reqwest's message could quote the proxy's, password and all.
            .map_err(|e| {
                let e = e.without_url();
                Error::config(format!("the HTTP client could not be built: {e}"))
            })
    }
}

/// The URL without its password (`https://user@host`), for what the client shows. A URL that does not parse
/// loses all of its credentials, as [`redact_password`] has it.
fn without_password(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(None);
            parsed.as_str().trim_end_matches('/').to_owned()
        }
        Ok(_) => url.to_owned(),
        Err(_) => redact_password(url),
    }
}

/// Validates a deployment URL as the official client does, returning it without a trailing slash.
fn check_url(url: &str, strict: bool) -> Result<String, Error> {
    let trimmed = url.trim().trim_end_matches('/');
    // Messages quote the URL without its password.
    let shown = redact_password(trimmed);
    let parsed = reqwest::Url::parse(trimmed).map_err(|e| {
        Error::config(format!(
            "`{shown}` is not a valid deployment URL ({e}); expected something like https://happy-otter-123.convex.cloud"
        ))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::config(format!(
            "`{shown}` is not a valid deployment URL: it must start with http:// or https://"
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(Error::config(format!(
            "`{shown}` is not a valid deployment URL: it has no host"
        )));
    }
    if strict
        && parsed
            .host_str()
            .is_some_and(|h| h.ends_with(".convex.site"))
    {
        return Err(Error::config(format!(
            "`{shown}` is an HTTP-actions URL (.convex.site); Convex deployment URLs typically end with .convex.cloud"
        )));
    }
    Ok(trimmed.to_owned())
}

/// Checks a site URL given to the builder, returning it without a trailing slash.
fn check_site_url(url: &str) -> Result<String, Error> {
    let trimmed = url.trim().trim_end_matches('/');
    match reqwest::Url::parse(trimmed) {
        Ok(parsed)
            if matches!(parsed.scheme(), "http" | "https")
                && parsed.host_str().is_some_and(|h| !h.is_empty())
                && parsed.query().is_none() =>
        {
            Ok(trimmed.to_owned())
        }
        _ => Err(Error::config(format!(
            "`{}` is not a valid site URL; expected something like https://happy-otter-123.convex.site",
            redact_password(trimmed)
        ))),
    }
}

/// The site URL of a deployment at `url` (checked, without a trailing slash): `.convex.cloud` becomes
/// `.convex.site`; any other deployment serves HTTP actions under `/http` on its own port.
fn derived_site_url(url: &str) -> String {
    if let Ok(mut parsed) = reqwest::Url::parse(url)
        && let Some(name) = parsed
            .host_str()
            .and_then(|host| host.strip_suffix(".convex.cloud"))
            .map(str::to_owned)
        && parsed.path() == "/"
        && parsed
            .set_host(Some(&format!("{name}.convex.site")))
            .is_ok()
    {
        return parsed.as_str().trim_end_matches('/').to_owned();
    }
    format!("{url}/http")
}

static DEFAULT_CLIENT: OnceLock<Client> = OnceLock::new();

/// Installs the client that stubs and calls without `.on(…)` or `.url(…)` use.
///
/// Call it once at start-up; without it the default client is built from `CONVEX_URL` at the first call.
/// Fails if a default client is already in place.
pub fn set_default_client(client: Client) -> Result<(), Error> {
    DEFAULT_CLIENT.set(client).map_err(|_| {
        Error::config("a default client is already installed; install it once, at start-up")
    })
}

tokio::task_local! {
    static SCOPED_CLIENT: Client;
}

/// Runs `future` with `client` as its default client: every call in it without `.on(…)` or `.url(…)` (stubs,
/// `api!` functions, `fetch_query`'s default form…) goes to `client`, and [`default_client`] returns it.
/// Outside the scope nothing changes, so parallel tests can each run the application's own handlers (which
/// call stubs on the default client) against a deployment of their own, without [`set_default_client`],
/// which can be called once per process.
///
/// Credential scopes follow it: a [`with_auth`](crate::with_auth) scope (and `axum::forward_auth`,
/// `axum::forward_session`) is for *the default client's deployment*, looked up when each call is made, so
/// inside `with_client(client, …)` its token goes to `client`'s deployment, whichever of the two scopes is
/// the outer one, and to no other. A scope bound to a client ([`Client::with_auth`]) stays bound to that
/// client's deployment.
///
/// The scope is the task's: a task spawned inside it (`tokio::spawn`) uses the process's default client;
/// wrap its future too. With the `axum` feature, `axum::use_client` opens this scope around each request.
///
/// ```no_run
/// # #[convex_fetch::query("notes:list")] async fn list_notes() -> Vec<String>;
/// # async fn demo(test_client: convex_fetch::Client) -> Result<(), convex_fetch::Error> {
/// // The handler calls `list_notes().await` on the default client; here that is `test_client`.
/// let notes = convex_fetch::with_client(test_client, async { list_notes().await }).await?;
/// # let _ = notes; Ok(()) }
/// ```
pub async fn with_client<F: Future>(client: Client, future: F) -> F::Output {
    SCOPED_CLIENT.scope(client, future).await
}

/// The default client: the client of the [`with_client`] scope the task runs in, else the one installed with
/// [`set_default_client`], else one built from `CONVEX_URL`.
pub fn default_client() -> Result<Client, Error> {
    if let Ok(client) = SCOPED_CLIENT.try_with(Client::clone) {
        return Ok(client);
    }
    if let Some(client) = DEFAULT_CLIENT.get() {
        return Ok(client.clone());
    }
    // Not cached on failure: the environment may be fixed later; on success whoever set it first wins.
    let client = Client::from_env()?;
    Ok(DEFAULT_CLIENT.get_or_init(|| client).clone())
}

/// Checks at start-up that the default client can be had, so that a missing or malformed `CONVEX_URL` stops a
/// service at boot rather than turning its first request into a 500. Builds the default client from
/// `CONVEX_URL` unless one is installed already, and returns it.
///
/// ```no_run
/// # async fn serve() {}
/// #[tokio::main]
/// async fn main() -> Result<(), convex_fetch::Error> {
///     convex_fetch::init()?; // "CONVEX_URL is not set: …" here, not at the first request
///     serve().await;
///     Ok(())
/// }
/// ```
pub fn init() -> Result<Client, Error> {
    default_client()
}

/// Clients of deployments named by URL in calls (`fetch_query(url, …)`, `.url(…)`), so that calls to the same
/// URL reuse connections. The default client serves its own URL, with its settings. Bounded: a program that
/// names many URLs rebuilds clients instead of growing.
pub(crate) fn client_for_url(url: &str) -> Result<Client, Error> {
    const MAX_CACHED: usize = 32;
    static CACHE: OnceLock<Mutex<HashMap<String, Client>>> = OnceLock::new();
    let scoped = SCOPED_CLIENT.try_with(Client::clone).ok();
    for default in scoped.iter().chain(DEFAULT_CLIENT.get()) {
        if default.full_url() == url.trim().trim_end_matches('/') {
            return Ok(default.clone());
        }
    }
    let cache = CACHE.get_or_init(Default::default);
    if let Some(client) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(url) {
        return Ok(client.clone());
    }
    let client = Client::new(url)?;
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() >= MAX_CACHED {
        cache.clear();
    }
    Ok(cache.entry(url.to_owned()).or_insert(client).clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_a_password_in_the_url() {
        let client = Client::new("https://proxy-user:hunter2@deployment.example.com").unwrap();
        let shown = format!("{client:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("proxy-user"),
            "{shown}"
        );
    }

    #[test]
    fn accepts_deployment_urls_and_trims_the_slash() {
        assert_eq!(
            check_url("https://happy-otter-123.convex.cloud/", true).unwrap(),
            "https://happy-otter-123.convex.cloud"
        );
        assert_eq!(
            check_url("http://127.0.0.1:3210", true).unwrap(),
            "http://127.0.0.1:3210"
        );
    }

    #[test]
    fn refuses_what_the_official_client_refuses() {
        for bad in [
            "",
            "happy-otter-123.convex.cloud",
            "ftp://x.convex.cloud",
            "https://x.convex.site",
        ] {
            let err = check_url(bad, true).unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::Config { .. }),
                "{bad}: {err}"
            );
        }
        assert!(check_url("https://x.convex.site", false).is_ok());
    }

    #[test]
    fn site_urls_are_derived_or_checked() {
        assert_eq!(
            derived_site_url("https://happy-otter-123.convex.cloud"),
            "https://happy-otter-123.convex.site"
        );
        assert_eq!(
            derived_site_url("http://127.0.0.1:3210"),
            "http://127.0.0.1:3210/http"
        );
        assert_eq!(
            derived_site_url("https://convex.example.com/backend"),
            "https://convex.example.com/backend/http"
        );
        let client = Client::builder("http://127.0.0.1:3210")
            .site_url("http://127.0.0.1:3211/")
            .build()
            .unwrap();
        assert_eq!(client.site_url(), "http://127.0.0.1:3211");
        for bad in ["", "127.0.0.1:3211", "ftp://x", "https://x.convex.site?a=b"] {
            let err = Client::builder("http://127.0.0.1:3210")
                .site_url(bad)
                .build()
                .unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::Config { .. }),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn a_password_in_a_url_is_in_no_error_and_no_accessor() {
        const PASSWORD: &str = "hunter2";
        let shows_nothing = |what: &str, shown: String| {
            assert!(!shown.contains(PASSWORD), "{what}: {shown}");
        };
        let builder = || Client::builder("http://127.0.0.1:3210");
        let failures = [
            (
                "bad proxy",
                builder().proxy("http://user:hunter2@[::1").build(),
            ),
            (
                "proxy scheme",
                builder().proxy("socks9://user:hunter2@proxy:1").build(),
            ),
            (
                "proxy then http_client",
                builder()
                    .proxy("http://user:hunter2@proxy:3128")
                    .http_client(reqwest::Client::new())
                    .build(),
            ),
            (
                "ftp deployment",
                Client::new("ftp://user:hunter2@x.convex.cloud"),
            ),
            (
                "site as deployment",
                Client::new("https://user:hunter2@x.convex.site"),
            ),
            ("no host", Client::new("http://user:hunter2@")),
            (
                "unparsable",
                Client::new("https://user:hunter2@exa mple.com"),
            ),
            (
                "bad site url",
                builder().site_url("ftp://user:hunter2@x").build(),
            ),
        ];
        for (what, result) in failures {
            match result {
                Ok(client) => shows_nothing(what, format!("{client:?}")),
                Err(err) => {
                    assert!(
                        matches!(err.kind(), ErrorKind::Config { .. }),
                        "{what}: {err:?}"
                    );
                    shows_nothing(what, format!("{err} {err:?}"));
                }
            }
        }
        let err = crate::token::BetterAuth::new("ftp://user:hunter2@x").unwrap_err();
        shows_nothing("BetterAuth", format!("{err} {err:?}"));

        let client = Client::builder("https://user:hunter2@deployment.example.com/")
            .proxy("http://proxy-user:hunter2@proxy:3128")
            .build()
            .unwrap();
        assert_eq!(client.url(), "https://user@deployment.example.com");
        assert_eq!(
            client.site_url(),
            "https://user@deployment.example.com/http"
        );
        assert_eq!(
            client.full_url(),
            "https://user:hunter2@deployment.example.com"
        );
        shows_nothing("Debug", format!("{client:?}"));
        let cloud = Client::new("https://user:hunter2@happy-otter-123.convex.cloud").unwrap();
        assert_eq!(cloud.site_url(), "https://user@happy-otter-123.convex.site");
        let site = builder()
            .site_url("https://user:hunter2@site.example.com")
            .build()
            .unwrap();
        assert_eq!(site.site_url(), "https://user@site.example.com");
        assert!(site.full_site_url().contains(PASSWORD));
    }

    #[test]
    fn debug_redacts_credentials() {
        let client = Client::builder("https://a.convex.cloud")
            .auth("secret-jwt")
            .build()
            .unwrap();
        let debug = format!("{client:?}");
        assert!(!debug.contains("secret-jwt"), "{debug}");
        assert!(debug.contains("[redacted]"), "{debug}");
    }
}
