//! A call being prepared: per-call options, then `.await`.

use crate::client::{Client, client_for_url, default_client};
use crate::error::{Error, FunctionName};
use crate::function::{Action, ConvexFunction, Mutation, Query};
use crate::secret::Secret;
use crate::snapshot::Snapshot;
use crate::wire;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// Per-call settings: the seed's `FetchOptions` (`authToken`, `verbose`) plus an admin key and a timeout.
///
/// A setting left unset falls back to the client's. Credentials are redacted in `Debug`.
///
/// ```
/// use convex_fetch::FetchOptions;
/// use std::time::Duration;
///
/// let options = FetchOptions::new().auth("eyJhbGciOi…").timeout(Duration::from_secs(5)).verbose();
/// assert!(!format!("{options:?}").contains("eyJ"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct FetchOptions {
    credential: Option<Credential>,
    timeout: Option<Duration>,
    verbose: bool,
}

#[derive(Clone, PartialEq, Eq)]
enum Credential {
    Auth(Secret),
    AdminKey(Secret),
}

impl FetchOptions {
    /// No options: unauthenticated, the client's timeout, quiet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs the call as the user this JWT identifies (`Authorization: Bearer …`).
    /// Replaces an admin key set earlier.
    pub fn auth(mut self, token: impl Into<String>) -> Self {
        self.credential = Some(Credential::Auth(Secret::new(token)));
        self
    }

    /// Runs the call with the deployment's admin key (`Authorization: Convex …`), which internal functions
    /// need. Replaces an auth token set earlier.
    pub fn admin_key(mut self, key: impl Into<String>) -> Self {
        self.credential = Some(Credential::AdminKey(Secret::new(key)));
        self
    }

    /// Runs the call with the deployment's admin key, acting as the user `identity` describes
    /// (`Authorization: Convex <key>:<base64 of the identity JSON>`, as the official clients send it).
    /// `identity` holds the user's `subject` and `issuer`, and optionally `name`, `email` and other claims.
    ///
    /// ```
    /// use convex_fetch::FetchOptions;
    ///
    /// let options = FetchOptions::new()
    ///     .admin_key_acting_as("prod:abc123", &serde_json::json!({ "subject": "user_1", "issuer": "https://auth.example.com" }));
    /// # let _ = options;
    /// ```
    pub fn admin_key_acting_as(
        mut self,
        key: impl Into<String>,
        identity: &serde_json::Value,
    ) -> Self {
        use base64::Engine as _;
        let identity = base64::engine::general_purpose::STANDARD.encode(identity.to_string());
        self.credential = Some(Credential::AdminKey(Secret::new(format!(
            "{}:{identity}",
            key.into()
        ))));
        self
    }

    /// The time the call may take, retries included.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Prints the call and its result to stderr: `[fetchQuery] posts:list: Starting { args: {}, hasAuth: false }`.
    pub fn verbose(mut self) -> Self {
        self.verbose = true;
        self
    }

    pub(crate) fn has_auth(&self) -> bool {
        matches!(self.credential, Some(Credential::Auth(_)))
    }

    pub(crate) fn has_admin_key(&self) -> bool {
        matches!(self.credential, Some(Credential::AdminKey(_)))
    }

    /// These options, with what they leave unset taken from `defaults`.
    pub(crate) fn or(self, defaults: &FetchOptions) -> FetchOptions {
        FetchOptions {
            credential: self.credential.or_else(|| defaults.credential.clone()),
            timeout: self.timeout.or(defaults.timeout),
            verbose: self.verbose || defaults.verbose,
        }
    }

    /// Merges `other` over these options: what `other` sets wins.
    fn merge(self, other: FetchOptions) -> FetchOptions {
        other.or(&self)
    }

    /// The `Authorization` header, if any.
    pub(crate) fn authorization(&self) -> Result<Option<reqwest::header::HeaderValue>, Error> {
        match &self.credential {
            None => Ok(None),
            Some(Credential::Auth(token)) => token.header("Bearer", "auth token").map(Some),
            Some(Credential::AdminKey(key)) => key.header("Convex", "admin key").map(Some),
        }
    }

    pub(crate) fn is_verbose(&self) -> bool {
        self.verbose
    }

    pub(crate) fn timeout_or(&self, default: Duration) -> Duration {
        self.timeout.unwrap_or(default)
    }
}

impl fmt::Debug for FetchOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let credential = match self.credential {
            None => "none",
            Some(Credential::Auth(_)) => "auth token [redacted]",
            Some(Credential::AdminKey(_)) => "admin key [redacted]",
        };
        f.debug_struct("FetchOptions")
            .field("credential", &format_args!("{credential}"))
            .field("timeout", &self.timeout)
            .field("verbose", &self.verbose)
            .finish()
    }
}

/// Where a call goes.
#[derive(Clone, Debug)]
enum Target {
    Default,
    Client(Client),
    Url(String),
}

/// A call to a Convex function, ready to be customised and awaited.
///
/// Stubs declared with `#[convex::query]` and friends return one; so do [`fetch_query`] and the untyped
/// methods of [`Client`]. Nothing is sent until it is awaited (or spawned). Awaiting yields
/// `Result<Output, Error>`, where `Output` is the function's declared return type:
///
/// ```no_run
/// # use convex_fetch::{Call, Untyped};
/// # async fn demo(token: String) -> Result<(), convex_fetch::Error> {
/// # let call: Call<Untyped<serde_json::Value, Vec<String>>> =
/// #     Call::new(Untyped::query("posts:titles", serde_json::json!({})));
/// let titles: Vec<String> = call
///     .auth(&token)
///     .timeout(std::time::Duration::from_secs(5))
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "a call does nothing until it is awaited or spawned"]
pub struct Call<F> {
    function: F,
    target: Target,
    options: FetchOptions,
    /// The snapshot timestamp of a query run with [`Call::at`].
    ts: Option<Arc<str>>,
}

impl<F: ConvexFunction> Call<F> {
    /// A call of `function` on the default client.
    pub fn new(function: F) -> Self {
        Call {
            function,
            target: Target::Default,
            options: FetchOptions::new(),
            ts: None,
        }
    }

    /// Sends the call through `client` (a `Client` or a `&Client`) instead of the default client.
    pub fn on(mut self, client: impl AsRef<Client>) -> Self {
        self.target = Target::Client(client.as_ref().clone());
        self
    }

    /// Sends the call to the deployment at `url`, through a client cached for that URL.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.target = Target::Url(url.into());
        self
    }

    /// Runs the call as the user this JWT identifies. See [`FetchOptions::auth`].
    pub fn auth(mut self, token: impl Into<String>) -> Self {
        self.options = self.options.auth(token);
        self
    }

    /// Runs the call with the deployment's admin key. See [`FetchOptions::admin_key`].
    pub fn admin_key(mut self, key: impl Into<String>) -> Self {
        self.options = self.options.admin_key(key);
        self
    }

    /// Runs the call with the admin key, acting as a user. See [`FetchOptions::admin_key_acting_as`].
    pub fn admin_key_acting_as(
        mut self,
        key: impl Into<String>,
        identity: &serde_json::Value,
    ) -> Self {
        self.options = self.options.admin_key_acting_as(key, identity);
        self
    }

    /// The time the call may take, retries included.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options = self.options.timeout(timeout);
        self
    }

    /// Prints the call and its result to stderr.
    pub fn verbose(mut self) -> Self {
        self.options = self.options.verbose();
        self
    }

    /// Applies `options` over those set so far: what `options` sets wins.
    pub fn options(mut self, options: FetchOptions) -> Self {
        self.options = self.options.merge(options);
        self
    }

    /// The function being called, with its args.
    pub fn function(&self) -> &F {
        &self.function
    }
}

impl<F: Query> Call<F> {
    /// Runs the query at `snapshot`'s timestamp, on the snapshot's client, so that several queries read one
    /// consistent view of the database.
    pub fn at(mut self, snapshot: &Snapshot) -> Self {
        self.target = Target::Client(snapshot.client().clone());
        self.ts = Some(snapshot.ts());
        self
    }
}

impl<F: ConvexFunction> fmt::Debug for Call<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("kind", &F::KIND)
            .field("path", &self.function.path())
            .field("target", &self.target)
            .field("options", &self.options)
            .field("ts", &self.ts)
            .finish()
    }
}

/// The future of an awaited [`Call`]. `Send + 'static`, so a call can be spawned.
pub type CallFuture<T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'static>>;

impl<F: ConvexFunction> IntoFuture for Call<F> {
    type Output = Result<F::Output, Error>;
    type IntoFuture = CallFuture<F::Output>;

    fn into_future(self) -> Self::IntoFuture {
        let function = FunctionName {
            kind: F::KIND,
            path: self.function.path().to_owned(),
        };
        // Encoding now means the future owns only bytes: args need not be `Send` or `'static`.
        let request = wire::Request::new(function, &self.function, self.ts.as_deref());
        let client = match self.target {
            Target::Default => default_client(),
            Target::Client(client) => Ok(client),
            Target::Url(url) => client_for_url(&url),
        };
        let options = self.options;
        Box::pin(async move {
            let client = client?;
            wire::execute(&client, request?, options).await
        })
    }
}

/// Runs a query on the deployment at `url`: the seed's `fetchQuery(url, query, args, options)`.
///
/// The function value carries its args (`ListPosts { status }`), so the args are checked by the compiler
/// against the function they belong to. Connections to `url` are reused across calls.
///
/// ```no_run
/// use convex_fetch::{FetchOptions, Untyped, fetch_query};
/// # async fn demo(url: &str) -> Result<(), convex_fetch::Error> {
/// let list = Untyped::query("posts:list", serde_json::json!({ "status": "published" }));
/// let posts: Vec<serde_json::Value> = fetch_query(url, list, FetchOptions::new()).await?;
/// # Ok(()) }
/// ```
pub fn fetch_query<F: Query>(url: impl Into<String>, query: F, options: FetchOptions) -> Call<F> {
    Call::new(query).url(url).options(options)
}

/// Runs a mutation on the deployment at `url`: the seed's `fetchMutation(url, mutation, args, options)`.
///
/// A mutation is sent once: it is retried only when the deployment provably did not run it.
pub fn fetch_mutation<F: Mutation>(
    url: impl Into<String>,
    mutation: F,
    options: FetchOptions,
) -> Call<F> {
    Call::new(mutation).url(url).options(options)
}

/// Runs an action on the deployment at `url`: the seed's `fetchAction(url, action, args, options)`.
pub fn fetch_action<F: Action>(
    url: impl Into<String>,
    action: F,
    options: FetchOptions,
) -> Call<F> {
    Call::new(action).url(url).options(options)
}
