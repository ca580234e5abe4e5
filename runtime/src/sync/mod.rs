//! Live queries over Convex's sync protocol (the `/api/sync` WebSocket): [`Call::subscribe`] turns a query
//! call into a [`Subscription`], a stream of its current value and then of each change.
//!
//! Each client opens one WebSocket per credential on first use (the protocol authenticates a socket, not a
//! query), shared by all its subscriptions; identical subscriptions (path, args, credential) share one
//! query on the server. `protocol` holds the messages, `session` the protocol's state without I/O, `worker`
//! the task that owns a socket and replaces it when lost, `latest` a query's shared result, `subscription`
//! the typed stream.

mod latest;
mod protocol;
mod query_set;
mod random;
mod session;
mod socket;
mod subscription;
mod worker;

pub use query_set::{QueryKey, QuerySet, View};
pub use subscription::Subscription;

use crate::call::Call;
use crate::client::Client;
use crate::error::{Error, ErrorKind, FunctionName, LiveProblem};
use crate::function::{ConvexFunction, Query};
use crate::live_settings::SocketRoute;
use crate::options::FetchOptions;
use protocol::Credential;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use worker::{Auth, Command, SocketUrl, TokensKey, Worker};

/// The state of a client's live connection, as [`Client::connection_state`] and
/// [`Subscription::connection_state`] report it. Every change is also a `tracing` event of the target
/// `convex_fetch::live`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionState {
    /// No socket is open: nothing has been subscribed yet, or the connection closed after
    /// [`LiveSettings::idle_timeout`](crate::LiveSettings::idle_timeout) with nothing live.
    Idle,
    /// The first socket is being opened.
    Connecting,
    /// The socket is open; subscriptions are live.
    Connected,
    /// The socket was lost; a new one is opened after `retry_in`. Subscriptions keep their last value and
    /// catch up once reconnected.
    Reconnecting {
        /// Why the last socket ended (a close code, a silence, a refused credential…), without credentials.
        reason: String,
        /// How many attempts have failed in a row, counting from the loss of the last socket the deployment
        /// answered: a refused upgrade, a socket that did not open and one lost before its first answer
        /// all count.
        attempt: u32,
        /// The wait before the next attempt, drawn at random below a ceiling that doubles with each failed
        /// attempt (see [`LiveSettings::initial_backoff`](crate::LiveSettings::initial_backoff)).
        retry_in: Duration,
    },
}

/// Marks the functions [`Call::subscribe`] accepts: queries. Implemented for every [`Query`].
#[diagnostic::on_unimplemented(
    message = "only a query's call can be subscribed to, and this one calls a mutation or an action",
    label = "only a query can be subscribed to",
    note = "`.subscribe()` streams a query's results; run a mutation or an action by awaiting its call"
)]
pub trait Subscribable: ConvexFunction {}

impl<F: Query> Subscribable for F {}

impl<F: ConvexFunction, R> Call<F, R> {
    /// Subscribes to the query: a stream of its current value, then of each change, decoded as the call's
    /// output (or the type given to [`returning`](Call::returning)). Dropping the stream unsubscribes.
    ///
    /// The call's client (`.on`, `.url` or the default) opens its WebSocket on the first poll, and the call's
    /// credential (`.auth`, `.admin_key`, the client's, or [`with_auth`](crate::with_auth)'s) authenticates
    /// it. The stream yields `Err` for a failure of the query (a `ConvexError` keeps its data), a refused
    /// credential, or a deployment that refuses the socket for good (a 404, 401 or 403 on the upgrade, a
    /// `FatalError`: [`ErrorKind::Live`]), and goes on: the client keeps reconnecting with a growing backoff, and
    /// a later change yields values again. The socket closes
    /// [`idle_timeout`](crate::LiveSettings::idle_timeout) after its last subscription is dropped. Across a lost connection it keeps its
    /// last value and resumes after reconnecting, without repeating an unchanged value.
    ///
    /// ```no_run
    /// use convex_fetch::StreamExt;
    /// # #[convex_fetch::query("posts:list")] async fn list_posts() -> Vec<String>;
    /// # async fn demo() -> Result<(), convex_fetch::Error> {
    /// let mut posts = list_posts().subscribe();
    /// while let Some(posts) = posts.next().await {
    ///     println!("{} posts", posts?.len());
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// The output must be `Clone` and `Sync`: the subscribers of one query (same function and args, on one
    /// connection) share its results, and each result is decoded once per output type, then cloned for each
    /// of them, rather than decoded again by every subscriber. The types the macros write are both.
    pub fn subscribe(self) -> Subscription<F::Output>
    where
        F: Subscribable,
        F::Output: Clone + Sync,
    {
        self.subscribe_as(auth_of)
    }

    /// Subscribes as [`subscribe`](Call::subscribe) does, authenticated with tokens from `tokens` instead of
    /// the call's or the client's credential: a token is fetched for each socket and refreshed before it
    /// expires on the open socket, and a refused one is an [`ErrorKind::Live`] item
    /// ([`LiveProblem::AuthRefused`](crate::LiveProblem::AuthRefused)).
    ///
    /// ```no_run
    /// use convex_fetch::token::{LiveTokens, Token};
    /// # #[convex_fetch::query("posts:mine")] async fn my_posts() -> Vec<String>;
    /// # async fn get_jwt() -> String { String::new() }
    /// let tokens = LiveTokens::from_fn(|_fresh| async { Ok(Token::new(get_jwt().await)) });
    /// let posts = my_posts().subscribe_with_tokens(&tokens);
    /// # let _ = posts;
    /// ```
    pub fn subscribe_with_tokens(self, tokens: &crate::token::LiveTokens) -> Subscription<F::Output>
    where
        F: Subscribable,
        F::Output: Clone + Sync,
    {
        let tokens = tokens.clone();
        self.subscribe_as(move |_, _| Ok(Auth::Tokens(TokensKey(tokens))))
    }

    /// Subscribes on the connection of the client and of the credential `auth` picks.
    fn subscribe_as(
        self,
        auth: impl FnOnce(&Client, &FetchOptions) -> Result<Auth, Error>,
    ) -> Subscription<F::Output>
    where
        F::Output: Clone + Sync,
    {
        let (name, _, start) = self.open(auth);
        Subscription::new(name, start)
    }

    /// The call's name and options, and the connection it goes on (of its client and of the credential
    /// `auth` picks) with its encoded args.
    fn open(
        self,
        auth: impl FnOnce(&Client, &FetchOptions) -> Result<Auth, Error>,
    ) -> (FunctionName, FetchOptions, Opened) {
        let (function, client, options) = self.into_parts();
        let name = FunctionName {
            kind: F::KIND,
            path: function.path().to_owned(),
        };
        let start = encode_args(&name, &function).and_then(|args| {
            let client = client?;
            let connection = connect(&client, auth(&client, &options)?)?;
            Ok((connection, args))
        });
        (name, options, start)
    }
}

impl<F: ConvexFunction, R> Call<F, R> {
    /// Runs the call over the client's WebSocket instead of HTTP, so that a write and the subscriptions it
    /// changes are seen in order: a mutation completes only once the subscriptions of its connection reflect
    /// it (a Transition has reached its commit). A query runs as a one-off subscription.
    ///
    /// Across a lost connection a mutation is re-sent with the same session and request id, which the
    /// deployment deduplicates: it runs once. An action is never re-sent; one in flight when the connection
    /// is lost fails with [`LiveProblem::MayHaveRun`](crate::LiveProblem::MayHaveRun). The call's timeout
    /// bounds the wait (a mutation may still run after it).
    ///
    /// ```no_run
    /// # #[convex_fetch::mutation("posts:create")] async fn create_post(title: String) -> String;
    /// # async fn demo() -> Result<(), convex_fetch::Error> {
    /// let id = create_post("Hello".to_owned()).over_socket().await?;
    /// # let _ = id; Ok(()) }
    /// ```
    pub fn over_socket(self) -> impl std::future::Future<Output = Result<F::Output, Error>> + Send {
        let (name, options, start) = self.open(auth_of);
        let timeout = options
            .timeout_setting()
            .unwrap_or(crate::client::DEFAULT_TIMEOUT);
        async move {
            let timed_out = |function: FunctionName| {
                let kind = ErrorKind::Timeout {
                    after: timeout,
                    sent: true,
                };
                Error::call(&function, kind)
            };
            let (connection, args) = start?;
            let kind = match name.kind {
                crate::function::FunctionKind::Mutation => worker::RequestKind::Mutation,
                crate::function::FunctionKind::Action => worker::RequestKind::Action,
                crate::function::FunctionKind::Query => {
                    use futures_util::StreamExt;
                    let mut once =
                        Subscription::<F::Output>::own(name.clone(), Ok((connection, args)));
                    return match tokio::time::timeout(timeout, once.next()).await {
                        Ok(Some(result)) => result,
                        Ok(None) => Err(stopped(&name)),
                        Err(_) => Err(timed_out(name)),
                    };
                }
            };
            let (reply, outcome) = tokio::sync::oneshot::channel();
            let path = name.path.clone();
            let mut connection = connection;
            if Connection::send(
                &mut connection,
                Command::Request {
                    kind,
                    path,
                    args,
                    reply,
                },
            )
            .is_err()
            {
                return Err(stopped(&name));
            }
            match tokio::time::timeout(timeout, outcome).await {
                Ok(Ok(outcome)) => decode(&name, outcome),
                Ok(Err(_)) => Err(stopped(&name)),
                Err(_) => Err(timed_out(name)),
            }
        }
    }
}

/// A call's connection and encoded args, or why it cannot go on one.
type Opened = Result<(Arc<Connection>, Args), Error>;

/// A call's args as the socket carries them: the encoded JSON object's text, kept as it is (one allocation
/// of its length) rather than as a `Value` tree, since the session only writes it again (a query's, after
/// each reconnect) and compares it as text.
pub(crate) type Args = Box<serde_json::value::RawValue>;

/// The failure of a call or stream whose connection's worker is gone.
fn stopped(function: &FunctionName) -> Error {
    let problem = LiveProblem::Stopped;
    Error::call(function, ErrorKind::Live { problem })
}

/// The args of a call as the protocol carries them: a Convex-encoded object (`{}` for none).
fn encode_args<F: ConvexFunction>(name: &FunctionName, function: &F) -> Result<Args, Error> {
    let mut bytes = Vec::new();
    crate::value::encode_args(function, &mut bytes)
        .map_err(|e| e.to_string())
        .and_then(|()| String::from_utf8(bytes).map_err(|e| e.to_string()))
        .and_then(|text| match text.trim_start().as_bytes().first() {
            Some(b'{') => serde_json::value::RawValue::from_string(text).map_err(|e| e.to_string()),
            Some(b'n') if text.trim() == "null" => {
                serde_json::value::RawValue::from_string("{}".to_owned()).map_err(|e| e.to_string())
            }
            _ => Err("the args must be an object".to_owned()),
        })
        .map_err(|message| Error::call(name, ErrorKind::InvalidArgs { message }))
}

/// How a call's connection authenticates: its credential (its own or the client's), else the client's live
/// token source, else not at all.
fn auth_of(client: &Client, options: &FetchOptions) -> Result<Auth, Error> {
    Ok(match credential(options)? {
        Some(credential) => Auth::Static(Some(credential)),
        None => match &client.live_settings().tokens {
            Some(tokens) => Auth::Tokens(TokensKey(tokens.clone())),
            None => Auth::Static(None),
        },
    })
}

/// The credential of a call as the socket's `Authenticate` carries it.
fn credential(options: &FetchOptions) -> Result<Option<Credential>, Error> {
    Ok(options.bare_credential()?.map(|(admin, text)| {
        if !admin {
            return Credential::User(text);
        }
        // `key:<base64 identity>` is the acting-as form; an admin key holds colons of its own, so the suffix
        // counts only if it decodes to a JSON object.
        if let Some((key, identity)) = text.rsplit_once(':') {
            use base64::Engine as _;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(identity)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
                .filter(serde_json::Value::is_object);
            if let Some(identity) = decoded {
                return Credential::Admin {
                    key: key.to_owned(),
                    acting_as: Some(identity),
                };
            }
        }
        Credential::Admin {
            key: text,
            acting_as: None,
        }
    }))
}

/// One live connection's handle: where commands go, its state, and the worker until it is spawned.
pub(crate) struct Connection {
    /// Its number in the hub, so that a closing worker removes itself and not a successor.
    id: u64,
    auth: Auth,
    hub: Weak<Hub>,
    views: Arc<worker::Views>,
    commands: mpsc::UnboundedSender<Command>,
    state: watch::Sender<ConnectionState>,
    worker: Mutex<Option<Worker>>,
}

impl Connection {
    /// Sends a `Subscribe` or `Request` on the client's live connection of `held`'s credential: `held`
    /// itself, unless it has closed for being idle or another is already the hub's (then `held` becomes
    /// that one). Spawns the worker on first use (on the current Tokio runtime).
    fn send(held: &mut Arc<Connection>, command: Command) -> Result<(), ()> {
        match held.hub.upgrade() {
            Some(hub) => hub.send(held, command),
            // The client is gone: the connection serves what it was given, then ends.
            None => held.start_and_send(command),
        }
    }

    fn start_and_send(&self, command: Command) -> Result<(), ()> {
        if let Some(worker) = lock(&self.worker).take() {
            tokio::spawn(worker.run());
        }
        self.commands.send(command).map_err(|_| ())
    }

    /// Whether its worker has closed it (for being idle) or ended.
    fn closed(&self) -> bool {
        self.commands.is_closed()
    }
}

/// A client's live connections, one per credential or token source while it has something live (and for
/// `LiveSettings::idle_timeout` after).
#[derive(Debug)]
struct Hub {
    url: String,
    settings: crate::live_settings::LiveSettings,
    socket_tls: crate::live_settings::SocketTls,
    this: Weak<Hub>,
    next_id: AtomicU64,
    state: Mutex<HubState>,
}

/// What the hub's lock guards: every `Subscribe` and `Request` is sent under it, and a worker leaves the
/// hub under it, so that no command goes to a connection that is closing.
#[derive(Default)]
pub(crate) struct HubState {
    /// The connections whose worker runs; each is removed by its worker when it closes.
    pub(crate) connections: HashMap<Auth, Arc<Connection>>,
    /// The state channels [`Client::connection_state`] handed out, kept across connections.
    watched: HashMap<Auth, watch::Sender<ConnectionState>>,
    /// The connection made for a credential whose first command has not been sent yet, shared by the calls
    /// made meanwhile: 10,000 subscriptions created before the first is polled make one connection (and one
    /// worker), not 10,000 of which all but one are dropped at their first poll. Weak, so that a connection
    /// whose subscriptions are all dropped unpolled is freed.
    unstarted: HashMap<Auth, Weak<Connection>>,
}

impl fmt::Debug for HubState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubState")
            .field("connections", &self.connections.len())
            .finish_non_exhaustive()
    }
}

impl Hub {
    fn new(client: &Client) -> Arc<Hub> {
        Arc::new_cyclic(|this| Hub {
            url: SocketUrl::of(client.full_url()),
            settings: client.live_settings().clone(),
            socket_tls: client.socket_tls().clone(),
            this: this.clone(),
            next_id: AtomicU64::new(0),
            state: Mutex::new(HubState::default()),
        })
    }

    /// The running connection of `auth`, else the one made for it that has not started, else a new one,
    /// registered when its first command is sent.
    fn connection(&self, auth: Auth) -> Arc<Connection> {
        let mut state = lock(&self.state);
        let running = state.connections.get(&auth).filter(|c| !c.closed());
        if let Some(connection) = running.cloned().or_else(|| {
            let unstarted = state.unstarted.get(&auth)?.upgrade()?;
            (!unstarted.closed()).then_some(unstarted)
        }) {
            return connection;
        }
        let made = self.make(&state, auth.clone());
        state
            .unstarted
            .retain(|_, connection| connection.strong_count() > 0);
        state.unstarted.insert(auth, Arc::downgrade(&made));
        made
    }

    fn make(&self, state: &HubState, auth: Auth) -> Arc<Connection> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (commands, receiver) = mpsc::unbounded_channel();
        let state = match state.watched.get(&auth) {
            Some(watched) => watched.clone(),
            None => watch::channel(ConnectionState::Idle).0,
        };
        let views = Arc::new(worker::Views::default());
        let worker = Worker::new(
            self.url.clone(),
            auth.clone(),
            self.settings.clone(),
            receiver,
            state.clone(),
            views.clone(),
            self.socket_tls.clone(),
            self.this.clone(),
            id,
        );
        Arc::new(Connection {
            id,
            auth,
            hub: self.this.clone(),
            views,
            commands,
            state,
            worker: Mutex::new(Some(worker)),
        })
    }

    /// See [`Connection::send`].
    fn send(&self, held: &mut Arc<Connection>, command: Command) -> Result<(), ()> {
        let mut state = lock(&self.state);
        match state.connections.get(&held.auth) {
            Some(running) if !running.closed() => {
                if !Arc::ptr_eq(running, held) {
                    *held = running.clone();
                }
            }
            _ => {
                // A closed one is replaced; so is one made before its state was watched (it has not
                // started, so nothing is lost), so that the watched state follows it.
                let unwatched = state
                    .watched
                    .get(&held.auth)
                    .is_some_and(|watched| !watched.same_channel(&held.state));
                if held.closed() || unwatched {
                    *held = self.make(&state, held.auth.clone());
                }
                state.unstarted.remove(&held.auth);
                state.connections.insert(held.auth.clone(), held.clone());
            }
        }
        held.start_and_send(command)
    }

    /// The state of the connection of `auth`, on a channel that outlives it: the connections made for
    /// `auth` afterwards report on it too.
    fn watch(&self, auth: Auth) -> watch::Receiver<ConnectionState> {
        let mut state = lock(&self.state);
        let running = state
            .connections
            .get(&auth)
            .filter(|connection| !connection.closed())
            .map(|connection| connection.state.clone());
        state
            .watched
            .entry(auth)
            .or_insert_with(|| running.unwrap_or_else(|| watch::channel(ConnectionState::Idle).0))
            .subscribe()
    }

    /// How many connections are running.
    fn len(&self) -> usize {
        lock(&self.state).connections.len()
    }
}

/// Locks a mutex, going on after a panic elsewhere: the data stays consistent at every unlock.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The client's live connection for `auth`, made on first use. A client whose calls go through a proxy the
/// socket cannot tunnel through has none: connecting around a proxy (the builder's or the environment's)
/// could break the application's network policy.
fn connect(client: &Client, auth: Auth) -> Result<Arc<Connection>, Error> {
    if let SocketRoute::Unsupported { scheme } = &client.socket_tls().route {
        return Err(Error::config(format!(
            "live queries cannot go through the proxy the client's calls use (`{scheme}://`, from `proxy` or \
             the environment's HTTPS_PROXY/HTTP_PROXY/ALL_PROXY): the WebSocket can only tunnel through an \
             `http://` proxy, and never connects around one. Use an `http://` proxy, or exempt the \
             deployment with NO_PROXY"
        )));
    }
    Ok(hub(client).connection(auth))
}

fn hub(client: &Client) -> Arc<Hub> {
    let slot = client
        .sync_slot()
        .get_or_init(|| Hub::new(client) as Arc<dyn std::any::Any + Send + Sync>)
        .clone();
    // The slot only ever holds a hub.
    slot.downcast::<Hub>().unwrap_or_else(|_| Hub::new(client))
}

impl Client {
    /// An empty [`QuerySet`] on this client: queries added to it are read together, every item a view of
    /// all of them at one moment of the deployment, as the official Rust client's `watch_all` gives.
    pub fn watch_all(&self) -> QuerySet {
        QuerySet::new(self.clone())
    }

    /// The state of the live connection of this client's own credential (the one its builder set, else its
    /// [`LiveSettings::tokens`](crate::LiveSettings::tokens), or none),
    /// as a `watch` receiver: read it with `borrow()`, wait for changes with `changed()`.
    ///
    /// ```no_run
    /// # async fn demo(client: convex_fetch::Client) {
    /// let mut state = client.connection_state();
    /// while state.changed().await.is_ok() {
    ///     println!("{:?}", *state.borrow());
    /// }
    /// # }
    /// ```
    pub fn connection_state(&self) -> watch::Receiver<ConnectionState> {
        let auth = auth_of(self, self.defaults()).unwrap_or(Auth::Static(None));
        hub(self).watch(auth)
    }

    /// How many live connections (sockets with their tasks, one per credential) this client runs now,
    /// closed idle ones excluded. For tests and diagnostics.
    #[doc(hidden)]
    pub fn live_connection_count(&self) -> usize {
        self.sync_slot()
            .get()
            .and_then(|slot| slot.clone().downcast::<Hub>().ok())
            .map_or(0, |hub| hub.len())
    }
}

/// A result or failure of the protocol as the call's `Result`.
fn decode<T: serde::de::DeserializeOwned>(
    function: &FunctionName,
    outcome: worker::Outcome,
) -> Result<T, Error> {
    use worker::Outcome;
    let live = |problem| Err(Error::call(function, ErrorKind::Live { problem }));
    match outcome {
        Outcome::Value(value) => crate::value::from_json_ref::<T>(&value).map_err(|e| {
            let kind = ErrorKind::Decode {
                message: e.to_string(),
                excerpt: crate::wire::excerpt(value.to_string().as_bytes()),
            };
            Error::call(function, kind)
        }),
        Outcome::Failed(failure) => {
            let data = failure
                .data
                .as_ref()
                .and_then(|data| crate::value::from_json_ref::<crate::value::Value>(data).ok());
            Err(crate::wire::function_failure(
                function,
                failure.message.clone(),
                data,
                failure.log_lines.clone(),
            ))
        }
        Outcome::Refused(message) => live(LiveProblem::AuthRefused {
            message: message.to_string(),
        }),
        Outcome::Fatal(message) => live(LiveProblem::Fatal {
            message: message.to_string(),
        }),
        Outcome::SocketRefused(refused) => live(LiveProblem::SocketRefused {
            status: refused.0,
            message: refused.1.clone(),
        }),
        Outcome::MayHaveRun => live(LiveProblem::MayHaveRun),
        Outcome::Pending => Err(stopped(function)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Calls made before the first is sent (subscriptions created, none polled yet) share one connection
    /// and one worker, rather than each making its own that its first poll then drops.
    #[test]
    fn calls_made_before_the_first_is_sent_share_one_unstarted_connection() {
        let client = Client::builder("http://127.0.0.1:9")
            .build()
            .expect("a client");
        let hub = hub(&client);
        let first = hub.connection(Auth::Static(None));
        let others: Vec<_> = (0..100)
            .map(|_| hub.connection(Auth::Static(None)))
            .collect();
        assert!(others.iter().all(|c| Arc::ptr_eq(c, &first)));
        assert_eq!(
            hub.next_id.load(Ordering::Relaxed),
            1,
            "one connection made"
        );
        let token = Auth::Static(Some(Credential::User("a token".to_owned())));
        let other = hub.connection(token);
        assert!(!Arc::ptr_eq(&other, &first), "a credential of its own");
        // Once every holder is gone, the next call makes a fresh one, and the stale entries go.
        drop((first, others, other));
        let fresh = hub.connection(Auth::Static(None));
        assert_eq!(fresh.id, 2);
        assert_eq!(lock(&hub.state).unstarted.len(), 1);
    }
}
