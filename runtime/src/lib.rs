//! Typed calls to [Convex](https://convex.dev) queries, mutations and actions over the deployment's HTTP API,
//! from server code: axum handlers, tower middleware, webhooks, cron jobs and command-line tools.
//!
//! Declare a stub per function and call it like an `async fn`; options go between the call and `.await`:
//!
//! ```no_run
//! use convex_fetch as convex;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize)]
//! #[serde(rename_all = "lowercase")]
//! pub enum Status { Draft, Published }
//!
//! #[derive(Deserialize)]
//! pub struct Post { pub title: String }
//!
//! #[convex::query("posts:list")]
//! pub async fn list_posts(status: Option<Status>) -> Vec<Post>;
//!
//! # async fn demo(token: &str) -> Result<(), convex::Error> {
//! // On the default client, built from CONVEX_URL at the first call:
//! let posts = list_posts(Some(Status::Published)).await?;
//! // With per-call options:
//! let posts = list_posts(None).auth(token).verbose().await?;
//! # Ok(()) }
//! ```
//!
//! Without a stub, `convex_fetch!` makes an inline call whose path is checked at compile time; the seed's
//! [`fetch_query`], [`fetch_mutation`] and [`fetch_action`] take an explicit deployment URL.
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Lets the macros name this crate as `::convex_fetch` in its own doc tests and tests.
#[allow(unused_extern_crates)]
extern crate self as convex_fetch;

mod call;
mod client;
mod error;
mod function;
pub mod pagination;
mod retry;
mod secret;
mod snapshot;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
pub mod value;
mod wire;

pub use call::{Call, CallFuture, FetchOptions, fetch_action, fetch_mutation, fetch_query};
pub use client::{
    CONVEX_URL_ENV, Client, ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT, default_client, set_default_client,
};
pub use error::{Error, FunctionName};
pub use function::{Action, ConvexFunction, FunctionKind, Mutation, Query, Untyped, kind};
pub use reqwest::StatusCode;
pub use retry::RetryPolicy;
pub use secret::Secret;
pub use snapshot::Snapshot;

pub use convex_fetch_macros::{action, convex_fetch, mutation, query};

/// What the macros expand to. Not public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::call::Call;
    pub use crate::function::{
        Action, ConvexFunction, FunctionKind, Mutation, Query, Untyped, kind,
    };
    pub use serde;

    /// Hands a stub parameter or an inline arg through unchanged; the expansion spans the call at the user's
    /// tokens so that a value that is not `Serialize` is reported there.
    pub fn arg<T: serde::Serialize>(value: T) -> T {
        value
    }
}
