//! The caller's credential for a scope: every call made while handling one request carries the token of the
//! user who sent it, without threading it through each call.

use crate::secret::Secret;
use std::future::Future;

tokio::task_local! {
    static CALLER_AUTH: Secret;
}

/// Runs `future` so that every call made in it without a credential of its own (`.auth`, `.admin_key`) runs as
/// the user this JWT identifies, before the client's default credential.
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
    CALLER_AUTH.scope(Secret::new(token), future).await
}

/// The token of the scope this task runs in, if any.
pub(crate) fn scoped_auth() -> Option<Secret> {
    CALLER_AUTH.try_with(Secret::clone).ok()
}
