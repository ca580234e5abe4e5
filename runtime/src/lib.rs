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
//! Without a stub, `convex_fetch!` makes an inline call whose path is checked at compile time; the fetch
//! helpers of server routes, [`fetch_query`], [`fetch_mutation`] and [`fetch_action`] take an explicit deployment URL.
//!
//! Also here:
//! - [`api!`] generates a stub for every function of a deployment from `npx convex function-spec`.
//! - [`value`](mod@value): the Convex value encoding, with [`value::Int64`], [`value::Bytes`], [`value::Id`],
//!   [`value::Document`], and [`value::Value`] for a value of any type (untyped results, `v.any()`,
//!   `ConvexError` data), held without loss.
//! - [`Error`] with [`Error::status_code`] for handlers; timeouts, retries that never repeat a write that may
//!   have run ([`RetryPolicy`]), credentials redacted everywhere ([`Secret`]).
//! - [`pagination`] for paginated queries as streams, [`Client::snapshot`] for several queries at one timestamp.
//! - [`Client::http`] for HTTP actions on the deployment's site URL; [`Client::upload`] and
//!   [`Client::download`] for file storage, streamed.
//! - [`with_client`]: run code written on the default client against another client (a test's own
//!   deployment), for the code in one future only.
//! - Feature `axum` (for **axum 0.8**): `IntoResponse` for [`Error`], bearer-token forwarding, the
//!   `use_client` layer, a shared-secret guard (the `axum` module).
//! - The crate [`convex-fetch-testing`](https://docs.rs/convex-fetch-testing): an in-process deployment for
//!   testing code that calls Convex, added under `[dev-dependencies]`.
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Lets the macros name this crate as `::convex_fetch` in its own doc tests and tests.
#[allow(unused_extern_crates)]
extern crate self as convex_fetch;

mod attempts;
#[cfg(feature = "axum")]
pub mod axum;
mod body;
mod call;
mod caller;
mod client;
mod error;
mod function;
// The backend's rules for paths and field names: one std-only file shared with the macros and the test
// deployment (a symlink to macros/src/grammar.rs), of which the runtime needs the field-name check and the
// canonical form of a path (live queries are keyed by it).
#[allow(
    dead_code,
    reason = "the file is shared; the runtime uses only the field-name rules and canonical paths"
)]
mod grammar;
mod http_action;
mod limit;
mod live_settings;
mod options;
pub mod pagination;

/// The test deployments are the crate `convex-fetch-testing`, a dev-dependency:
/// `convex_fetch_testing::TestDeployment` (functions written in Rust) and `convex_fetch_testing::JsDeployment`
/// (your `convex/` folder's TypeScript). This module holds nothing; it only says where they went.
///
/// ```toml
/// [dev-dependencies]
/// convex-fetch-testing = "0.1"
/// ```
pub mod testing {
    // `TestDeployment` and `JsDeployment` are names here only so that using them is an error that says where
    // they are: each stands for an associated type of a trait nothing implements, whose message rustc shows
    // at the use (rather than "no `TestDeployment` in `testing`").

    /// Not a type: the test deployments are in `convex-fetch-testing`.
    #[diagnostic::on_unimplemented(
        message = "the test deployments are in the crate `convex-fetch-testing`, not in `convex_fetch::testing`",
        label = "write `convex_fetch_testing::TestDeployment` (or `JsDeployment`)",
        note = "add it as a dev-dependency: `convex-fetch-testing = \"0.1\"` under `[dev-dependencies]`"
    )]
    #[doc(hidden)]
    pub trait InConvexFetchTesting {
        type Type;
    }

    /// The marker nothing implements [`InConvexFetchTesting`] for.
    #[doc(hidden)]
    #[derive(Debug)]
    pub enum Moved {}

    /// Moved: `convex_fetch_testing::TestDeployment`.
    #[doc(hidden)]
    pub type TestDeployment = <Moved as InConvexFetchTesting>::Type;

    /// Moved: `convex_fetch_testing::JsDeployment`.
    #[doc(hidden)]
    pub type JsDeployment = <Moved as InConvexFetchTesting>::Type;
}
mod retry;
mod secret;
mod snapshot;
mod storage;
mod sync;
pub mod token;
pub mod value;
mod wire;

pub use call::{Call, fetch_action, fetch_mutation, fetch_query, output};
pub use caller::with_auth;
pub use client::{
    CONVEX_SITE_URL_ENV, CONVEX_URL_ENV, Client, ClientBuilder, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, IntoClient, default_client, init,
    set_default_client, with_client,
};
pub use error::{
    Error, ErrorKind, FailureDetails, FunctionName, HttpCall, LiveProblem, NOT_RUN_CODES,
    SNAPSHOT_LIFETIME,
};
pub use function::{
    Action, CallOutput, ConvexFunction, FunctionKind, HttpRoute, Mutation, Query, Returning,
    Untyped, kind,
};
/// The stream methods of a [`Subscription`] and of [`pagination`]'s streams (`next`, `map`, `take`, …):
/// `futures-util`'s `StreamExt`, re-exported so that `use convex_fetch::StreamExt;` is enough (rustc also
/// suggests this path when `.next()` is called without it). It is the trait `futures::StreamExt` re-exports
/// too: import either one.
pub use futures_util::StreamExt;
/// HTTP status codes, as [`Error::status_code`] and [`ErrorKind::Server`] give them: the `http` crate's type
/// (version 1), re-exported on purpose. It is the type axum, hyper and reqwest use, so a status passes straight
/// into a response.
pub use http::StatusCode;
/// The method and headers of [HTTP action](HttpRequest) requests and answers: the `http` crate's types
/// (version 1), as [`StatusCode`].
pub use http::{HeaderMap, Method};
pub use http_action::{HttpRequest, HttpResponse};
pub use live_settings::LiveSettings;
pub use options::FetchOptions;
/// The HTTP client crate, at the version [`ClientBuilder::http_client`] takes.
pub use reqwest;
pub use retry::RetryPolicy;
pub use secret::{IntoCredential, Secret};
pub use snapshot::Snapshot;
pub use storage::{Download, FileStream, IntoUploadBody, Storage, Upload, UploadBody, UploadUrl};
pub use sync::{ConnectionState, QueryKey, QuerySet, Subscribable, Subscription, View};

/// Declares a typed stub for a Convex query: `#[convex::query("module:export")]` on a bodyless `async fn`.
///
/// ```
/// # use convex_fetch as convex;
/// # #[derive(serde::Serialize)] pub enum Status { Published }
/// # #[derive(serde::Deserialize)] pub struct Post { pub title: String }
/// /// The posts, newest first.
/// #[convex::query("posts:list")]
/// pub async fn list_posts(status: Option<Status>, max_items: u32) -> Vec<Post>;
/// ```
///
/// expands, in outline (a sketch of the generated items, so it is not compiled), to
///
/// ```ignore
/// /// The args of the Convex query `posts:list`, and its typed reference.
/// pub struct ListPostsQuery { pub status: Option<Status>, pub max_items: u32 }
/// impl Serialize for ListPostsQuery { /* {"status": …, "maxItems": …}, `status` left out when None */ }
/// impl ConvexFunction for ListPostsQuery { const KIND = FunctionKind::Query; type Output = Vec<Post>; /* path */ }
/// impl Query for ListPostsQuery {}
///
/// /// The posts, newest first.
/// pub fn list_posts(status: Option<Status>, max_items: u32) -> Call<ListPostsQuery> { Call::new(ListPostsQuery { status, max_items }) }
/// ```
///
/// - **The call** is a [`Call`]: set options (`.auth(token)`, `.admin_key(key)`, `.on(&client)`, `.url(url)`,
///   `.timeout(d)`, `.verbose()`) and `.await` it for a `Result<Vec<Post>, convex::Error>`. Without `.on` or
///   `.url` it runs on the [default client](default_client). It does nothing until awaited (`#[must_use]`).
/// - **Parameters** become the fields of the args object, renamed to camelCase (`max_items` → `maxItems`).
///   `rename_all = "snake_case"` (or `"PascalCase"`, `"SCREAMING_SNAKE_CASE"`) changes that for the stub,
///   `#[convex(rename = "…")]` for one parameter. A parameter written `Option<T>` is left out when `None`, as
///   `v.optional` expects. No parameters send `{}`. Parameters own their data, nested ones too (`String`,
///   `Option<String>`, `Vec<String>`; not `&str`, `Option<&str>` or `&'static str`): the call holds its args
///   until it is awaited, and may be spawned.
/// - **The return type** is the success value; no return type or `-> ()` means the function returns nothing.
/// - **The args struct** is the function's typed reference: pass it to [`fetch_query`], [`Client::call`] or
///   [`convex_fetch!`]. It is named after the function, in PascalCase, followed by its kind: `list_posts` →
///   `ListPostsQuery`, `create_task` → `CreateTaskMutation`, `send_digest` → `SendDigestAction`; so a stub `post`
///   sits beside the app's `Post`, and `create_task` beside the HTTP body type `CreateTask`. Should the name
///   still be taken (rustc says ``the name `ListPostsQuery` is defined multiple times``), choose another with
///   `name = OtherName`.
/// - **Where a stub stands**: in a module or a function's body (the args struct is an item beside the
///   function), not in an `impl` or `trait` block, where the macro says to move it to a module
///   (`mod api { … }`) and call it from the method. The macro tells the block from the stub's source file;
///   where it cannot read it (a stub generated at a position that is not in a file on disk), rustc's
///   "struct is not supported in `trait`s or `impl`s" says it instead.
/// - **`derive(Debug, Clone, Deserialize)`** adds derives to the args struct, to log the args or to take them
///   in a test deployment's handler. `Deserialize` reads the wire names, and a missing `Option` field is `None`;
///   `Serialize` is always there, written by the macro.
/// - **The path** is checked at compile time with the deployment's rules: `"dir/module:export"`, `"module"` for
///   its default export, an optional `.js` suffix; directory names may hold dots (`"v1.api/posts:list"`), no
///   name holds `-` or spaces. `crate = "path"` names this crate for code that re-exports it: a path that
///   resolves from anywhere in the crate, such as `"::my_sdk::convex"` or `"crate::sdk::convex"`.
/// - **Checked against the function spec**, when the crate has one: set `CONVEX_FUNCTION_SPEC` to the file
///   `npx convex function-spec` prints (in `.cargo/config.toml`: `[env] CONVEX_FUNCTION_SPEC = { value =
///   "convex/function_spec.json", relative = true }`; a relative path is read from the crate's folder), or
///   give `spec = "…"` on one stub. Then a stub fails to compile, at its own token and showing the spec's
///   validator, when the function does not exist (with the closest names) or is of another kind, when a
///   required arg has no parameter or a parameter is no arg (after renaming), when an `Option` parameter stands
///   for a required arg, and when a type the crate knows does not match: `String`, `f64` and the integers,
///   `bool`, `Vec<…>`, `Option<…>`, `BTreeMap<String, …>`/`HashMap`, `()`, and `value::Int64`, `value::Bytes`,
///   `value::Id<…>`, `value::Value`. Types of your own (structs, enums) cannot be seen from a macro and are
///   accepted as they are. The result is checked against the returns validator on the same terms. The crate
///   recompiles when the spec changes. `unchecked` skips the check for one stub (a function not deployed yet);
///   without a spec nothing is checked. `convex_fetch!` calls are checked too (the function, its kind, the
///   args object's keys). `convex_fetch_testing::js::check_function_spec` keeps the committed spec current.
///   The spec is read once per crate build; a debug build runs macros unoptimised, so for a spec of megabytes
///   build them optimised as sqlx users do theirs: `[profile.dev.package.convex-fetch-macros]` and
///   `[profile.dev.package.serde_json]`, each with `opt-level = 3`.
pub use convex_fetch_macros::query;

/// Declares a typed stub for a Convex mutation; everything [`query`] says applies.
///
/// ```
/// # use convex_fetch as convex;
/// # pub struct Tasks;
/// #[convex::mutation("tasks:complete")]
/// pub async fn complete_task(task_id: convex::value::Id<Tasks>);
///
/// # async fn demo(token: &str) -> Result<(), convex::Error> {
/// complete_task(convex::value::Id::new("k57a")).auth(token).await?;
/// # Ok(()) }
/// ```
///
/// A mutation is sent once: it is retried only when the failure proves it did not run (see [`RetryPolicy`]).
pub use convex_fetch_macros::mutation;

/// Declares a typed stub for a Convex action; everything [`query`] says applies.
///
/// ```
/// # use convex_fetch as convex;
/// #[convex::action("reports:generate")]
/// pub async fn generate_report(month: u8, year: u16) -> String;
/// ```
pub use convex_fetch_macros::action;

/// Calls a Convex function inline, without declaring a stub.
///
/// Untyped, with the kind, a path checked at compile time and an args object whose keys are sent as written
/// (identifiers, string literals, or a variable's name alone); the result type is written where the result
/// goes, or given with `.returning::<T>()` (`.returning::<()>()` discards it), as for [`Client::query`]:
///
/// ```no_run
/// # use convex_fetch as convex;
/// # #[derive(serde::Deserialize)] struct Post { title: String }
/// # async fn demo(token: String) -> Result<(), convex::Error> {
/// let limit = 10;
/// let posts: Vec<Post> = convex::convex_fetch!(query "posts:list", { status: "published", limit }).await?;
/// let sent: u64 = convex::convex_fetch!(action "notifications:sendDailyDigests", {}, auth = token).await?;
/// // A result whose shape is not known: a `value::Value` keeps every Convex type in it.
/// let stats: convex::value::Value = convex::convex_fetch!(query "stats:summary", {}).await?;
/// convex::convex_fetch!(mutation "posts:touch", {}).returning::<()>().await?;
/// # Ok(()) }
/// ```
///
/// Or typed, with a stub's args struct, so that field names and types are checked:
/// `convex_fetch!(ListPostsQuery { status: None, max_items: 5 }, verbose)`.
///
/// Options follow the args: `auth = token`, `admin = key`, `url = url` or `client = client`, `timeout = duration`,
/// `verbose`, and `crate = "path"` to name this crate for code that re-exports it (as for [`query`]). Unlike a stub's `Option` parameter, a `None` value here is sent as `null`.
pub use convex_fetch_macros::convex_fetch;

/// Generates typed stubs for every function of a deployment from its function spec, the JSON that
/// `npx convex function-spec` prints (commit it, e.g. as `convex/function_spec.json`; the path is relative to
/// the crate's `Cargo.toml`, and the crate is rebuilt when the file changes). The bare array that older CLIs and
/// `npx convex run _system/cli/modules:apiSpec` print, and the `{"status", "value"}` wrapper around either form,
/// are read too.
///
/// **The first spec.** `npx convex function-spec > convex/function_spec.json` writes it, against the deployment
/// of `npx convex dev` (it needs one). Without a deployment (a fresh clone, CI), the crate
/// `convex-fetch-testing` prints the same JSON from the `convex/` folder itself:
/// `convex_fetch_testing::function_spec("convex")` (Node.js needed, no deployment), e.g. in a small test or
/// `build.rs` step that writes the file. A missing file is a compile error that names both.
///
/// ```no_run
/// # use convex_fetch as convex;
/// # use convex::value::Int64;
/// #[derive(serde::Deserialize)]
/// pub struct Stats { pub count: i64 }
///
/// convex::api!("doc-specs/function_spec.json", returns { "stats:summary" => Stats });
///
/// # async fn demo(key: String, channel: String) -> Result<(), convex::Error> {
/// // Two or more args: by name, in the args struct. Zero or one: positional.
/// let page = api::posts::list(api::posts::ListArgs { status: None, limit: 10.0 }).await?;
/// let purged = internal::tasks::purge_old(Int64(30)).admin_key(&key).await?;
/// let stats: Stats = api::stats::summary().await?;
/// // A paginated query streams through `pagination::paginate` as it is.
/// let items = convex::pagination::paginate(50, move |opts| {
///     api::messages::list(api::messages::ListArgs { channel: channel.clone(), pagination_opts: opts })
/// }).items();
/// # let _ = (page, purged, items); Ok(()) }
/// # fn main() {}
/// ```
///
/// It generates, where the spec calls for them:
/// - `api::…`: a module per Convex module (`api::admin::users`), and in it, per public function, its args
///   struct, which is the typed reference (`posts:list` → `ListArgs`), and a function building the call
///   (`list(…)`). A function with two or more args takes the struct, so that args of one type cannot be swapped
///   (the spec lists them alphabetically, not in the order they were written); with zero or one it takes the
///   arg itself. A function without an args validator takes any serializable args; one without a returns
///   validator returns a [`value::Value`], which keeps whatever Convex types the answer holds, unless the
///   `returns { "module:export" => Type, … }` option sets its output (any `Deserialize` type, read where
///   `api!` is written, as visible as the stubs). `returns` works for **any** function, also one with a
///   returns validator: the given type replaces the generated one, e.g. to return the application's own
///   `Note` instead of the generated `GetOutput`, so that calls and the rest of the code share one type
///   (it must read what the validator allows; a mismatch is a `Decode` error at the call). Each generated
///   function's docs name its output: "The call resolves to `Result<Vec<ListOutputItem>, convex::Error>`".
/// - `internal::…`: the same for internal functions, which need `.admin_key(key)`.
/// - `tables::…`: a marker type per table, so that ids are typed: `Id<tables::Posts>`.
/// - `http::…`: a [`HttpRoute`] constant per HTTP action (`POST_WEBHOOK`).
///
/// Every generated item is documented (from the function's path and the validator), so a crate with
/// `#![deny(missing_docs)]` can use it.
///
/// Validators map to Rust types: `number` → `f64`, `bigint` → [`Int64`](value::Int64) in args and `i64` in
/// results, `bytes` → [`Bytes`](value::Bytes), `any` → [`value::Value`] (lossless), `id` → [`Id`](value::Id),
/// `array` → `Vec`, `record` → `BTreeMap<String, _>`, `object` → a struct (fields in snake case, renamed on the
/// wire; `_id` → `id`, `_creationTime` → `creation_time`), an optional field → an `Option` left out when
/// `None`, `nullable(x)` → `Option`, a validator type this version does not know → [`value::Value`].
/// Unions:
/// - a union of string literals is an enum of unit variants (`"in-review"` → `InReview`);
/// - objects sharing a field whose type is a string literal (a tag such as `type` or `kind`, distinct in each
///   member) are one enum with a variant per tag value, holding the other fields, decoded by the tag;
/// - any other union is an enum decoded by the value's Convex type, so that nothing is lost: an int64 is never
///   read as a float64 (or the reverse), bytes never as an array; literals are variants compared exactly
///   (`1` → `V1`, `2.5` → `V2p5`, `1n` → `V1` too, then suffixed, `true` → `True`); same-typed members are tried
///   in the spec's order. A string cannot tell a string from an id, so an `id` member beside a `string` is
///   merged into the `String` variant (its docs say so), as are ids of two or more tables; a lone `id` member
///   stays an `Id` variant;
/// - a union with an `any` member, and one nested within three other unions, is a [`value::Value`], which
///   keeps generated code small for recursive, JSON-like validators.
///
/// Paginated queries are recognised: `paginationOpts` (`paginationOptsValidator`) is
/// [`pagination::PaginationOptions`] and `{page, isDone, continueCursor, …}` is
/// [`pagination::PaginationResult<T>`](pagination::PaginationResult), so a generated stub works with
/// [`pagination::paginate`]. A query taking `paginationOpts` that declares no returns validator returns
/// `PaginationResult<value::Value>`, so it pages too; `returns { … }` types its items.
///
/// Identical validators within one module share one type, named after their first use. Ids of `_storage` are
/// `Id<`[`Storage`]`>`, the type [`Client::upload`] returns.
///
/// Convex names become Rust names, for any name a deployment holds: `v1.api/posts` → `api::v1_api::posts`,
/// `2024` → `_2024`, an export `_1a` → `_1a()` and `T1aArgs`, the `default` export → `default_()` and
/// `DefaultArgs`, a keyword → a raw identifier (`r#type`); a field `2fa` → `field_2fa`, `first name` →
/// `first_name` (the wire names are kept). Generated types never take a name of the std prelude (`String`,
/// `Option`, `Default`, …). When two names of one scope would be one Rust name (`userId` and `user_id`, modules
/// `v1.api` and `v1_api`, tables `jobs` and `_jobs`, a function's args struct and a type named after a
/// field of another function), the later one in sorted order takes the smallest free suffix: `user_id_2`,
/// `v1_api_2`, `Jobs2`, `SendMessage2` (`_2` after a digit: `V1_2`); an unchanged name claims before a
/// renamed one (`id` stays `id` beside `_id`), and an application's table before a system table. Type names are
/// cut at 64 characters. Only a malformed spec is a compile error, naming the JSON path at fault.
///
/// `api!("convex/function_spec.json", crate = "::my_sdk::convex")` names this crate for code that re-exports
/// it.
pub use convex_fetch_macros::api;

/// What the macros expand to. Not public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::call::Call;
    pub use crate::function::{
        Action, ConvexFunction, FunctionKind, Mutation, Query, Untyped, kind,
    };
    pub use serde;
    pub use serde_json;

    /// The pieces of the value codec that the test deployment (`convex-fetch-testing`) shares.
    pub mod codec {
        pub use crate::value::de::Special;
    }

    /// Hands a stub parameter or an inline arg through unchanged; the expansion spans the call at the user's
    /// tokens so that a value that is not `Serialize` is reported there.
    pub fn arg<T: serde::Serialize>(value: T) -> T {
        value
    }

    /// The call of an untyped `convex_fetch!`, whose result type is left to inference as for
    /// `Client::query`, so that `.returning::<T>()` settles it.
    pub fn inferred<A: serde::Serialize, O: crate::CallOutput, K: kind::Kind>(
        function: Untyped<A, O, K>,
    ) -> Call<Untyped<A, O, K>, crate::output::Inferred> {
        Call::inferred(function)
    }

    /// Requires the result type of an untyped `convex_fetch!` to be one, before anything else does: the
    /// first requirement of a type is the one rustc reports when it fails, so a result left without a type
    /// is reported by `InferredOutput`'s message rather than serde's.
    pub fn output_of<O: InferredOutput, A, K>(_: &Untyped<A, O, K>) {}

    /// Ties the result type of an untyped `convex_fetch!` to a value of type `!` in code that never runs,
    /// so that a result nothing gives a type falls back to `!`, which `InferredOutput` names, instead of
    /// staying ambiguous (rustc's "type annotations needed", which would show the expansion's types).
    pub fn never_unless_typed<A, O, K>(_: &Untyped<A, O, K>, _: O) {}

    /// The result type of an untyped `convex_fetch!`: what a call can decode into, with a message for a
    /// result left without a type.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be the result of this `convex_fetch!` call",
        label = "give this call's result a type",
        note = "`!` means that nothing gave the result a type: await the call and write the type where the result goes (`let posts: Vec<Post> = convex_fetch!(…).await?`), or give it with `.returning::<T>()` (`.returning::<()>()` discards it); a call does nothing until it is awaited",
        note = "a type of your own needs `#[derive(serde::Deserialize)]`"
    )]
    pub trait InferredOutput {}

    // Bound on `Deserialize<'static>` (which every `DeserializeOwned` type is) rather than on `CallOutput`: a
    // requirement rustc already holds is not checked twice, and the `Call`'s own `CallOutput` bound would
    // then be the one reported, with serde's message.
    impl<T: serde::Deserialize<'static>> InferredOutput for T {}
}
