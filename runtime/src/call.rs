//! A call being prepared: per-call options, then `.await` (a `Call` is itself the future).

use crate::client::{Client, IntoClient, client_for_url, default_client};
use crate::error::{Error, FunctionName};
use crate::function::{
    Action, CallOutput, ConvexFunction, Mutation, Query, Returning, Untyped, kind,
};
use crate::options::{FetchOptions, option_setters};
use crate::value::Value;
use crate::wire;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

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
/// methods of [`Client`]. A `Call` is a [`Future`] yielding `Result<Output, Error>`, where `Output` is the
/// function's declared return type. Nothing is sent until it is first polled: options chain before that, and
/// it works wherever a future goes (`join_all`, `FuturesUnordered`, `tokio::select!`, and `tokio::spawn`, the
/// args being owned):
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
pub struct Call<F: ConvexFunction, R = output::Declared> {
    function: F,
    target: Target,
    options: FetchOptions,
    /// The snapshot a query runs at (see `Call::at`): its timestamp, and when it was taken.
    snapshot: Option<(Arc<str>, Instant)>,
    /// The request in flight, from the first poll on.
    running: Option<CallFuture<F::Output>>,
    /// Where the result type comes from: see [`output`].
    _output: PhantomData<fn() -> R>,
}

/// Where a [`Call`]'s result type comes from, its second type parameter.
///
/// The parameter exists so that `.returning::<T>()` can settle the result type of a call named at run time
/// ([`Client::query`], [`Client::mutation`], [`Client::action`], an untyped `convex_fetch!`), whose type is
/// otherwise left to inference: such a call is a `Call<Untyped<A, O, K>, Inferred>`, every other call a
/// `Call<F>` (`Declared`, the default).
pub mod output {
    /// The function declares its result: a stub's args struct, an [`Untyped`](crate::Untyped) whose output is
    /// named. `.returning::<T>()` decodes into `T` instead.
    #[derive(Debug, Clone, Copy)]
    pub enum Declared {}

    /// The result type of an untyped call is left to inference: written where the result goes
    /// (`let posts: Vec<Post> = call.await?`), or given with `.returning::<T>()`.
    #[derive(Debug, Clone, Copy)]
    pub enum Inferred {}
}

// The function is never pinned: the first poll only reads it, to encode the request the boxed future owns.
impl<F: ConvexFunction, R> Unpin for Call<F, R> {}

impl<F: ConvexFunction> Call<F> {
    /// A call of `function` on the default client.
    pub fn new(function: F) -> Self {
        Call::with_output(function)
    }

    /// Decodes the result into `T` instead of the function's declared output: for a function whose spec
    /// declares no return type, or to read only some of its fields.
    ///
    /// ```no_run
    /// # use convex_fetch::{Call, Untyped};
    /// #[derive(serde::Deserialize)]
    /// struct Title {
    ///     title: String,
    /// }
    /// # async fn demo(call: Call<Untyped<serde_json::Value>>) -> Result<(), convex_fetch::Error> {
    /// let titles = call.returning::<Vec<Title>>().await?;
    /// # let _: Vec<Title> = titles;
    /// # Ok(()) }
    /// ```
    pub fn returning<T: CallOutput>(self) -> Call<Returning<F, T>> {
        self.map_function(Returning::new)
    }
}

impl<A: serde::Serialize, K: kind::Kind> Call<Untyped<A, Value, K>, output::Inferred> {
    /// Gives the result type of a call named at run time ([`Client::query`], [`Client::mutation`],
    /// [`Client::action`], an untyped `convex_fetch!`): `T`, or `()` to discard it.
    ///
    /// ```no_run
    /// # async fn demo(client: convex_fetch::Client) -> Result<(), convex_fetch::Error> {
    /// client.mutation("tasks:purge", serde_json::json!({})).returning::<()>().await?;
    /// let titles = client.query("posts:titles", serde_json::json!({})).returning::<Vec<String>>().await?;
    /// # let _: Vec<String> = titles;
    /// # Ok(()) }
    /// ```
    ///
    /// Writing the type where the result goes does the same: `let titles: Vec<String> = call.await?`.
    pub fn returning<T: CallOutput>(self) -> Call<Untyped<A, T, K>> {
        self.map_function(Untyped::retyped)
    }
}

impl<F: ConvexFunction> Call<F, output::Inferred> {
    /// A call of an untyped `function` whose result type is left to inference.
    pub(crate) fn inferred(function: F) -> Self {
        Call::with_output(function)
    }
}

impl<F: ConvexFunction, R> Call<F, R> {
    fn with_output(function: F) -> Self {
        Call {
            function,
            target: Target::Default,
            options: FetchOptions::new(),
            snapshot: None,
            running: None,
            _output: PhantomData,
        }
    }

    /// The call of `map(function)`, with this call's target and options.
    fn map_function<G: ConvexFunction, S>(self, map: impl FnOnce(F) -> G) -> Call<G, S> {
        Call {
            function: map(self.function),
            target: self.target,
            options: self.options,
            snapshot: self.snapshot,
            running: None,
            _output: PhantomData,
        }
    }

    /// Sends the call through `client` (a `Client` or a `&Client`) instead of the default client.
    pub fn on(mut self, client: impl IntoClient) -> Self {
        self.target = Target::Client(client.into_client());
        self
    }

    /// Sends the call to the deployment at `url`, through a client cached for that URL.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.target = Target::Url(url.into());
        self
    }

    option_setters!(options);

    /// Applies `options` over those set so far: what `options` sets wins.
    pub fn options(mut self, options: FetchOptions) -> Self {
        self.options = options.or(&self.options);
        self
    }

    /// The function being called, with its args.
    pub fn function(&self) -> &F {
        &self.function
    }

    /// The function, the client the call goes to, and its options (over the client's defaults, then the
    /// caller's scoped token if the scope is for the client's deployment and the client has no live token
    /// source, which is a credential of the client's own): what a subscription of the call needs.
    pub(crate) fn into_parts(mut self) -> (F, Result<Client, Error>, FetchOptions) {
        let client = self.take_client();
        let options = std::mem::take(&mut self.options);
        let options = match &client {
            Ok(client) if client.live_settings().tokens.is_some() => options.or(client.defaults()),
            Ok(client) => crate::caller::call_options(client, options),
            Err(_) => options,
        };
        (self.function, client, options)
    }

    /// The client the call goes to; the target is left as the default.
    fn take_client(&mut self) -> Result<Client, Error> {
        match std::mem::replace(&mut self.target, Target::Default) {
            Target::Default => default_client(),
            Target::Client(client) => Ok(client),
            Target::Url(url) => client_for_url(&url),
        }
    }

    /// The call as a boxed future that owns only the encoded request, so args need not be `Send`.
    pub(crate) fn boxed(mut self) -> CallFuture<F::Output> {
        self.running.take().unwrap_or_else(|| self.start())
    }

    /// Picks the client and encodes the request.
    fn start(&mut self) -> CallFuture<F::Output> {
        let function = FunctionName {
            kind: F::KIND,
            path: self.function.path().to_owned(),
        };
        let at = self
            .snapshot
            .as_ref()
            .map(|(ts, taken)| wire::At { ts, taken: *taken });
        let request = wire::Request::function(function, &self.function, at);
        let client = self.take_client();
        let options = std::mem::take(&mut self.options);
        Box::pin(async move {
            let client = client?;
            wire::call(&client, request?, options).await
        })
    }
}

impl<F: Query, R> Call<F, R> {
    /// Runs the query on `client` at the timestamp `ts`, taken at `taken`.
    pub(crate) fn at_snapshot(mut self, client: &Client, ts: Arc<str>, taken: Instant) -> Self {
        self.target = Target::Client(client.clone());
        self.snapshot = Some((ts, taken));
        self
    }
}

impl<F: ConvexFunction, R> fmt::Debug for Call<F, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("kind", &F::KIND)
            .field("path", &self.function.path())
            .field("target", &self.target)
            .field("options", &self.options)
            .field("ts", &self.snapshot.as_ref().map(|(ts, _)| ts))
            .finish()
    }
}

/// A boxed call in flight: what a [`Call`] runs from its first poll.
pub(crate) type CallFuture<T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'static>>;

impl<F: ConvexFunction, R> Future for Call<F, R> {
    type Output = Result<F::Output, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let call = self.get_mut();
        let running = match call.running {
            Some(ref mut running) => running,
            None => {
                let running = call.start();
                call.running.insert(running)
            }
        };
        running.as_mut().poll(cx)
    }
}

/// Runs a query on the deployment at `url`, as `fetchQuery(query, args, options)` does in server routes.
///
/// The function value carries its args (`ListPostsQuery { status }`), so the args are checked by the compiler
/// against the function they belong to. Connections to `url` are reused across calls.
///
/// ```no_run
/// use convex_fetch::{FetchOptions, Untyped, fetch_query};
/// # async fn demo(url: &str) -> Result<(), convex_fetch::Error> {
/// let list = Untyped::query("posts:list", serde_json::json!({ "status": "published" }));
/// let posts: Vec<convex_fetch::value::Value> = fetch_query(url, list, FetchOptions::new()).await?;
/// # Ok(()) }
/// ```
pub fn fetch_query<F: Query>(url: impl Into<String>, query: F, options: FetchOptions) -> Call<F> {
    Call::new(query).url(url).options(options)
}

/// Runs a mutation on the deployment at `url`, as `fetchMutation(mutation, args, options)` does in server routes.
///
/// A mutation is sent once: it is retried only when the deployment provably did not run it.
pub fn fetch_mutation<F: Mutation>(
    url: impl Into<String>,
    mutation: F,
    options: FetchOptions,
) -> Call<F> {
    Call::new(mutation).url(url).options(options)
}

/// Runs an action on the deployment at `url`, as `fetchAction(action, args, options)` does in server routes.
pub fn fetch_action<F: Action>(
    url: impl Into<String>,
    action: F,
    options: FetchOptions,
) -> Call<F> {
    Call::new(action).url(url).options(options)
}

impl Client {
    /// A typed call on this client: `client.call(ListPostsQuery { status: None }).await`.
    pub fn call<F: ConvexFunction>(&self, function: F) -> Call<F> {
        Call::new(function).on(self)
    }

    /// A query named at run time. Its result type `O` is written where the result goes, or given with
    /// [`returning`](Call::returning) (`()` discards it):
    ///
    /// ```no_run
    /// # async fn demo(client: convex_fetch::Client) -> Result<(), convex_fetch::Error> {
    /// let titles: Vec<String> = client.query("posts:titles", serde_json::json!({})).await?;
    /// let count = client.query("posts:count", serde_json::json!({})).returning::<u64>().await?;
    /// # let _: u64 = count;
    /// # Ok(()) }
    /// ```
    pub fn query<A: serde::Serialize, O: CallOutput>(
        &self,
        path: impl Into<String>,
        args: A,
    ) -> Call<Untyped<A, O, kind::Query>, output::Inferred> {
        Call::inferred(Untyped::new(path, args)).on(self)
    }

    /// A mutation named at run time; its result type as for [`query`](Client::query):
    ///
    /// ```no_run
    /// # async fn demo(client: convex_fetch::Client) -> Result<(), convex_fetch::Error> {
    /// client.mutation("tasks:purge", serde_json::json!({})).returning::<()>().await?;
    /// # Ok(()) }
    /// ```
    pub fn mutation<A: serde::Serialize, O: CallOutput>(
        &self,
        path: impl Into<String>,
        args: A,
    ) -> Call<Untyped<A, O, kind::Mutation>, output::Inferred> {
        Call::inferred(Untyped::new(path, args)).on(self)
    }

    /// An action named at run time; its result type as for [`query`](Client::query).
    pub fn action<A: serde::Serialize, O: CallOutput>(
        &self,
        path: impl Into<String>,
        args: A,
    ) -> Call<Untyped<A, O, kind::Action>, output::Inferred> {
        Call::inferred(Untyped::new(path, args)).on(self)
    }
}
