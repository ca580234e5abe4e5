//! The deployment client, its builder, and the process-wide default client.

use crate::error::Error;
use crate::options::{FetchOptions, option_setters};
use crate::retry::RetryPolicy;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// The environment variable the default client reads its deployment URL from.
pub const CONVEX_URL_ENV: &str = "CONVEX_URL";

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
    url: String,
    /// The options of every call, under the call's own; the timeout is always set.
    defaults: FetchOptions,
    retry: RetryPolicy,
    max_response_bytes: usize,
}

impl AsRef<Client> for Client {
    fn as_ref(&self) -> &Client {
        self
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("url", &redact_password(&self.inner.url))
            .field("defaults", &self.inner.defaults)
            .field("retry", &self.inner.retry)
            .field("max_response_bytes", &self.inner.max_response_bytes)
            .finish()
    }
}

impl Client {
    /// A client of the deployment at `url` with default settings.
    pub fn new(url: impl Into<String>) -> Result<Client, Error> {
        Client::builder(url).build()
    }

    /// A client of the deployment named by the `CONVEX_URL` environment variable.
    pub fn from_env() -> Result<Client, Error> {
        match std::env::var(CONVEX_URL_ENV) {
            Ok(url) if !url.trim().is_empty() => Client::new(url),
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
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            user_agent: None,
            check_url: true,
            retry: RetryPolicy::default(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// The deployment URL, without a trailing slash.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// The options of every call on this client, under the call's own.
    pub(crate) fn defaults(&self) -> &FetchOptions {
        &self.inner.defaults
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    pub(crate) fn retry(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    pub(crate) fn max_response_bytes(&self) -> usize {
        self.inner.max_response_bytes
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
    connect_timeout: Duration,
    user_agent: Option<String>,
    check_url: bool,
    retry: RetryPolicy,
    max_response_bytes: usize,
}

impl ClientBuilder {
    option_setters!(defaults);

    /// The time establishing a connection may take. Default [`DEFAULT_CONNECT_TIMEOUT`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The `User-Agent` header. Default `convex-fetch/<version>`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
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

    /// Skips the check that the URL looks like a deployment URL (not a `.convex.site` HTTP-actions URL), for
    /// self-hosted backends behind unusual addresses. The URL must still be `http` or `https`.
    pub fn skip_url_check(mut self) -> Self {
        self.check_url = false;
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let url = check_url(&self.url, self.check_url)?;
        let user_agent = self
            .user_agent
            .unwrap_or_else(|| concat!("convex-fetch/", env!("CARGO_PKG_VERSION")).to_owned());
        let http = reqwest::Client::builder()
            .user_agent(user_agent)
            .connect_timeout(self.connect_timeout)
            // Convex never redirects its API; following one could send a mutation to another origin.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::config(format!("the HTTP client could not be built: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                url,
                defaults: self.defaults,
                retry: self.retry,
                max_response_bytes: self.max_response_bytes,
            }),
        })
    }
}

/// The URL with any password replaced, for `Debug`.
fn redact_password(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("[redacted]"));
            parsed.as_str().trim_end_matches('/').to_owned()
        }
        _ => url.to_owned(),
    }
}

/// Validates a deployment URL as the official client does, returning it without a trailing slash.
fn check_url(url: &str, strict: bool) -> Result<String, Error> {
    let trimmed = url.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(trimmed).map_err(|e| {
        Error::config(format!(
            "`{trimmed}` is not a valid deployment URL ({e}); expected something like https://happy-otter-123.convex.cloud"
        ))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::config(format!(
            "`{trimmed}` is not a valid deployment URL: it must start with http:// or https://"
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(Error::config(format!(
            "`{trimmed}` is not a valid deployment URL: it has no host"
        )));
    }
    if strict
        && parsed
            .host_str()
            .is_some_and(|h| h.ends_with(".convex.site"))
    {
        return Err(Error::config(format!(
            "`{trimmed}` is an HTTP-actions URL (.convex.site); Convex deployment URLs typically end with .convex.cloud"
        )));
    }
    Ok(trimmed.to_owned())
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

/// The default client: the one installed with [`set_default_client`], else one built from `CONVEX_URL`.
pub fn default_client() -> Result<Client, Error> {
    if let Some(client) = DEFAULT_CLIENT.get() {
        return Ok(client.clone());
    }
    // Not cached on failure: the environment may be fixed later; on success whoever set it first wins.
    let client = Client::from_env()?;
    Ok(DEFAULT_CLIENT.get_or_init(|| client).clone())
}

/// Clients of deployments named by URL in calls (`fetch_query(url, …)`, `.url(…)`), so that calls to the same
/// URL reuse connections. The default client serves its own URL, with its settings. Bounded: a program that
/// names many URLs rebuilds clients instead of growing.
pub(crate) fn client_for_url(url: &str) -> Result<Client, Error> {
    const MAX_CACHED: usize = 32;
    static CACHE: OnceLock<Mutex<HashMap<String, Client>>> = OnceLock::new();
    if let Some(default) = DEFAULT_CLIENT.get() {
        if default.url() == url.trim().trim_end_matches('/') {
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
            assert!(matches!(err, Error::Config { .. }), "{bad}: {err}");
        }
        assert!(check_url("https://x.convex.site", false).is_ok());
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
