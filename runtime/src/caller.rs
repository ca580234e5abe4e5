//! The caller's credential for a scope: every call made while handling one request carries the token of the
//! user who sent it, without threading it through each call.
//!
//! A scope is opened for one deployment, and its token goes only to calls to that deployment: a call made in
//! the scope to another deployment (another client, `fetch_query(other_url, …)`) is not given a token meant
//! for this one. Nor does a scope replace a credential chosen for the call or its client (`.auth`,
//! `.admin_key`, a client built with an admin key): it fills in only where there is none.

use crate::client::{Client, default_client};
use crate::options::FetchOptions;
use crate::secret::Secret;
use std::future::Future;

tokio::task_local! {
    static CALLER_AUTH: Scoped;
}

/// A scope's token and the deployment it was opened for.
#[derive(Clone)]
struct Scoped {
    token: Secret,
    deployment: Deployment,
}

/// The deployment a scope's token is for.
#[derive(Clone)]
enum Deployment {
    /// The default client's, looked up when a call is made (the default client may be installed after the
    /// scope opens, or built from `CONVEX_URL` at the first call).
    Default,
    /// The deployment at this URL (a client's, without a trailing slash).
    Url(String),
}

/// Runs `future` so that every call made in it **to the default client's deployment** without a credential
/// of its own or of its client (`.auth`, `.admin_key`, a client built with one) runs as the user this JWT
/// identifies.
///
/// Calls to any other deployment, through another client or a URL (`fetch_query(url, …)`), are not given the
/// token: it was meant for the default deployment. For a scope bound to another client, use
/// [`Client::with_auth`].
///
/// The default client is the one in effect at each call: inside a [`with_client`](crate::with_client) scope
/// (a test's own deployment, `axum::use_client`), the token goes to that client's deployment, whichever of
/// the two scopes is the outer one.
///
/// The scope is the task's: a call in a task spawned from inside it (`tokio::spawn`) does not carry the token;
/// wrap that task's future too. With the `axum` feature, `axum::forward_auth` opens this scope around each
/// request that has a bearer token.
///
/// ```no_run
/// # #[convex_fetch::query("users:me")] async fn me() -> Option<String>;
/// # async fn handle(token: String) -> Result<(), convex_fetch::Error> {
/// let name = convex_fetch::with_auth(token, async { me().await }).await?;
/// # let _ = name; Ok(()) }
/// ```
pub async fn with_auth<F: Future>(token: impl Into<String>, future: F) -> F::Output {
    scope(token.into(), Deployment::Default, future).await
}

impl Client {
    /// Runs `future` so that every call made in it to **this client's deployment** (through this client, a
    /// clone of it, or any client or URL of the same deployment URL) without a credential of its own or of
    /// its client runs as the user this JWT identifies. Calls to other deployments are not given the token.
    /// As [`with_auth`](crate::with_auth), for a deployment other than the default client's.
    ///
    /// ```no_run
    /// # #[convex_fetch::query("users:me")] async fn me() -> Option<String>;
    /// # async fn handle(client: convex_fetch::Client, token: String) -> Result<(), convex_fetch::Error> {
    /// let name = client.with_auth(token, async { me().on(&client).await }).await?;
    /// # let _ = name; Ok(()) }
    /// ```
    pub async fn with_auth<F: Future>(&self, token: impl Into<String>, future: F) -> F::Output {
        scope(
            token.into(),
            Deployment::Url(self.full_url().to_owned()),
            future,
        )
        .await
    }
}

async fn scope<F: Future>(token: String, deployment: Deployment, future: F) -> F::Output {
    let scoped = Scoped {
        token: Secret::new(token),
        deployment,
    };
    CALLER_AUTH.scope(scoped, future).await
}

/// The options of a call to `client`: its own, over the client's defaults, and only then, if neither holds a
/// credential, the token of the scope this task runs in if that scope was opened for the client's deployment.
pub(crate) fn call_options(client: &Client, options: FetchOptions) -> FetchOptions {
    let options = options.or(client.defaults());
    if options.has_credential() {
        return options;
    }
    match scoped_auth_for(client.full_url()) {
        Some(token) => options.with_scoped_auth(token),
        None => options,
    }
}

/// The token of the scope this task runs in, if that scope is for the deployment at `url`.
fn scoped_auth_for(url: &str) -> Option<Secret> {
    let scoped = CALLER_AUTH.try_with(Scoped::clone).ok()?;
    let applies = match &scoped.deployment {
        Deployment::Url(bound) => bound == url,
        // No default client (no `CONVEX_URL`): the scope is for a deployment no call can reach.
        Deployment::Default => default_client().is_ok_and(|default| default.full_url() == url),
    };
    applies.then_some(scoped.token)
}
