//! One live connection: a task that owns the WebSocket of one (client, credential), its query set, its
//! requests and its versions, and replaces the socket when it is lost.
//!
//! Everything the protocol keeps per socket (versions, the server's query ids) restarts with each socket;
//! what the client keeps (the session id, query ids, request ids, the last results) lives here for the
//! connection's lifetime, so that a reconnect resubscribes from version 0 and re-sends unfinished mutations
//! under the same (session id, request id), which the deployment deduplicates.

use super::ConnectionState;
use super::latest::Latest;
use super::protocol::{
    self, Credential, Modification, QueryModification, Response, ServerMessage, StateVersion,
    Transition,
};
use super::socket;
use crate::live_settings::{LiveSettings, SocketTls};
use crate::token::{LiveTokens, TokenError};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// The `Convex-Client` header of the socket, as the HTTP calls send it.
const CONVEX_CLIENT: &str = concat!("rust-convex-fetch-", env!("CARGO_PKG_VERSION"));
/// How much of a refused upgrade's body an error quotes.
const MAX_REFUSAL_CHARS: usize = 200;
/// How many commands queued together are recorded before the socket is written: a bound on one message.
const MAX_BATCH: usize = 1024;

/// A function's failure, as the protocol carries it.
#[derive(Debug, PartialEq)]
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) data: Option<Value>,
    pub(crate) log_lines: Vec<String>,
}

/// The latest result of a query, or how a request ended.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// No result yet.
    Pending,
    /// The Convex-encoded value.
    Value(Arc<Value>),
    Failed(Arc<Failure>),
    /// The deployment refused the credential.
    Refused(Arc<str>),
    /// A `FatalError`.
    Fatal(Arc<str>),
    /// The deployment refused the socket's upgrade with this status and the start of its body.
    SocketRefused(Arc<(http::StatusCode, String)>),
    /// Lost with the connection; may have run.
    MayHaveRun,
}

impl Outcome {
    pub(crate) fn same(&self, other: &Outcome) -> bool {
        match (self, other) {
            (Outcome::Pending, Outcome::Pending) | (Outcome::MayHaveRun, Outcome::MayHaveRun) => {
                true
            }
            (Outcome::Value(a), Outcome::Value(b)) => a == b,
            (Outcome::Failed(a), Outcome::Failed(b)) => a == b,
            (Outcome::Refused(a), Outcome::Refused(b)) | (Outcome::Fatal(a), Outcome::Fatal(b)) => {
                a == b
            }
            (Outcome::SocketRefused(a), Outcome::SocketRefused(b)) => a == b,
            _ => false,
        }
    }
}

/// What a subscription gets back: its query's id (to unsubscribe) and its results.
pub(crate) struct Subscribed {
    pub(crate) query_id: u32,
    pub(crate) results: watch::Receiver<Latest>,
}

/// Mutation or action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestKind {
    Mutation,
    Action,
}

pub(crate) enum Command {
    Subscribe {
        path: String,
        args: Value,
        reply: oneshot::Sender<Subscribed>,
    },
    Unsubscribe {
        query_id: u32,
    },
    Request {
        kind: RequestKind,
        path: String,
        args: Value,
        reply: oneshot::Sender<Outcome>,
    },
}

struct Query {
    path: String,
    args: Value,
    key: String,
    subscribers: usize,
    journal: Option<Value>,
    results: watch::Sender<Latest>,
}

impl Query {
    /// Publishes a result that differs from the last: a new `Latest`, which its subscribers decode anew.
    fn publish(&self, outcome: Outcome) {
        self.results.send_if_modified(|current| {
            if current.outcome.same(&outcome) {
                false
            } else {
                *current = Latest::new(outcome);
                true
            }
        });
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RequestState {
    /// Not sent on the current socket.
    Unsent,
    /// Sent on the current socket, no answer yet.
    Sent,
    /// A mutation that succeeded at this commit timestamp, waiting for a Transition that reaches it.
    Committed(u64),
}

struct Request {
    kind: RequestKind,
    path: String,
    args: Value,
    state: RequestState,
    /// Sent on an earlier socket that was lost: it may have run.
    sent_before: bool,
    value: Option<Value>,
    reply: Option<oneshot::Sender<Outcome>>,
}

/// What a [`QuerySet`](super::QuerySet) needs to read every query of a connection at one Transition: the
/// worker holds `lock` for writing while it applies a Transition's results, then bumps `applied`.
#[derive(Debug, Default)]
pub(crate) struct Views {
    pub(crate) lock: std::sync::RwLock<()>,
    pub(crate) applied: watch::Sender<u64>,
}

impl Views {
    /// Applies results under the write lock, then wakes the sets.
    fn apply<R>(&self, apply: impl FnOnce() -> R) -> R {
        let result = {
            let _writing = self.lock.write().unwrap_or_else(|e| e.into_inner());
            apply()
        };
        self.applied.send_modify(|n| *n += 1);
        result
    }
}

/// How a connection authenticates: with a fixed credential (or none), or with tokens fetched for each socket
/// and refreshed before they expire.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Auth {
    Static(Option<Credential>),
    Tokens(TokensKey),
}

/// A token source, compared and hashed by its id.
#[derive(Debug, Clone)]
pub(crate) struct TokensKey(pub(crate) LiveTokens);

impl PartialEq for TokensKey {
    fn eq(&self, other: &TokensKey) -> bool {
        self.0.id() == other.0.id()
    }
}

impl Eq for TokensKey {}

impl std::hash::Hash for TokensKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.id().hash(state);
    }
}

/// How long before its expiry a token is replaced on the open socket, as the official JS client does; at
/// most half of what is left of it, for short-lived tokens.
const REFRESH_LEAD: Duration = Duration::from_secs(10);

/// The shortest wait between two refresh attempts.
const MIN_REFRESH_WAIT: Duration = Duration::from_millis(200);

/// The first backoff ceiling after a close with code 1013 (Try Again Later: the deployment is overloaded),
/// as the official JavaScript client waits for its overload reasons.
const OVERLOADED_BACKOFF: Duration = Duration::from_secs(3);

/// Why a socket ended, and how long to wait before the next.
struct Lost {
    reason: String,
    /// The first backoff ceiling for this cause, before doubling.
    initial: Duration,
    /// The token source refused the session (the streams have been told).
    refused: bool,
    /// A refusal for good (a refused upgrade, a `FatalError`): every stream and pending request is told.
    fail: Option<Outcome>,
}

/// The wait before reconnect attempt `attempt` (1 for the first in a row): `unit` (drawn in [0, 1)) of
/// `initial × 2^(attempt − 1)`, capped at `max` ("full jitter", see `LiveSettings::initial_backoff`).
pub(crate) fn backoff(initial: Duration, max: Duration, attempt: u32, unit: f64) -> Duration {
    ceiling(initial, max, attempt).mul_f64(unit.clamp(0.0, 1.0))
}

/// The longest wait before attempt `attempt`.
pub(crate) fn ceiling(initial: Duration, max: Duration, attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(31);
    initial.saturating_mul(1u32 << doublings).min(max)
}

pub(crate) struct Worker {
    url: String,
    socket_tls: SocketTls,
    /// Built from `socket_tls` on first use.
    tls: Option<Arc<rustls::ClientConfig>>,
    views: Arc<Views>,
    auth: Auth,
    /// The credential of the current (or last) socket.
    credential: Option<Credential>,
    /// When the token in use expires, if it came from a token source and says.
    expires_at: Option<SystemTime>,
    /// The deployment refused the last token: ask the source for a fresh one.
    fresh_token: bool,
    settings: LiveSettings,
    session_id: String,
    commands: mpsc::UnboundedReceiver<Command>,
    state: watch::Sender<ConnectionState>,
    queries: BTreeMap<u32, Query>,
    keys: HashMap<String, u32>,
    next_query_id: u32,
    requests: BTreeMap<u32, Request>,
    next_request_id: u32,
    /// The versions of the current socket: what the server last confirmed, and what was last sent.
    remote: StateVersion,
    query_set: u32,
    identity: u32,
    max_observed: Option<u64>,
    connection_count: u32,
    last_close_reason: String,
    /// How many attempts in a row have failed.
    attempt: u32,
    /// Whether the current socket has been answered with a Transition: only its loss starts the backoff
    /// over.
    healthy: bool,
    /// The client's connections, which this one leaves when it closes for being idle.
    hub: Weak<super::Hub>,
    /// This connection's number in the hub.
    id: u64,
}

pub(crate) enum SocketUrl {}

impl SocketUrl {
    /// `ws(s)://host/…/api/sync` of a deployment URL (checked, without a trailing slash); any path prefix is
    /// kept, unlike the official Rust client.
    pub(crate) fn of(url: &str) -> String {
        if let Some(rest) = url.strip_prefix("https://") {
            format!("wss://{rest}/api/sync")
        } else if let Some(rest) = url.strip_prefix("http://") {
            format!("ws://{rest}/api/sync")
        } else {
            format!("{url}/api/sync")
        }
    }
}

impl Worker {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        url: String,
        auth: Auth,
        settings: LiveSettings,
        commands: mpsc::UnboundedReceiver<Command>,
        state: watch::Sender<ConnectionState>,
        views: Arc<Views>,
        socket_tls: SocketTls,
        hub: Weak<super::Hub>,
        id: u64,
    ) -> Worker {
        let credential = match &auth {
            Auth::Static(credential) => credential.clone(),
            Auth::Tokens(_) => None,
        };
        Worker {
            url,
            socket_tls,
            tls: None,
            views,
            auth,
            credential,
            expires_at: None,
            fresh_token: false,
            settings,
            session_id: super::random::uuid_v4(),
            commands,
            state,
            queries: BTreeMap::new(),
            keys: HashMap::new(),
            next_query_id: 0,
            requests: BTreeMap::new(),
            next_request_id: 0,
            remote: StateVersion::default(),
            query_set: 0,
            identity: 0,
            max_observed: None,
            connection_count: 0,
            last_close_reason: "InitialConnect".to_owned(),
            attempt: 0,
            healthy: false,
            hub,
            id,
        }
    }

    /// Serves until every handle (the client's hub, each subscription) is gone, or until it has been idle
    /// for the grace period and has left the hub.
    pub(crate) async fn run(mut self) {
        loop {
            if self.idle() {
                // No socket: nothing to send yet.
                match self.wait_idle().await {
                    Some(command) => {
                        let _ = self.apply(command);
                        // With those queued behind it, so that the first socket carries them all.
                        while let Ok(command) = self.commands.try_recv() {
                            let _ = self.apply(command);
                        }
                        continue;
                    }
                    None => return,
                }
            }
            let lost = match self.serve().await {
                Ok(()) => return,
                Err(lost) => lost,
            };
            self.socket_lost(&lost.reason);
            if let Some(outcome) = lost.fail {
                self.fail_all(outcome);
            }
            // Only a socket the deployment answered starts the count over: a refused upgrade, a failed
            // handshake and a socket lost before its first Transition all make the next wait longer.
            if std::mem::take(&mut self.healthy) {
                self.attempt = 0;
            }
            self.attempt = self.attempt.saturating_add(1);
            let delay = backoff(
                lost.initial,
                self.settings.max_backoff,
                self.attempt,
                super::random::unit(),
            );
            tracing::warn!(
                target: "convex_fetch::live",
                reason = %lost.reason,
                attempt = self.attempt,
                retry_in_ms = delay.as_millis() as u64,
                "live connection lost; reconnecting"
            );
            self.state.send_replace(ConnectionState::Reconnecting {
                reason: lost.reason.clone(),
                attempt: self.attempt,
                retry_in: delay,
            });
            self.last_close_reason = lost.reason;
            let sleep = tokio::time::sleep(delay);
            tokio::pin!(sleep);
            // Until the wait is over, or everything was dropped meanwhile (then the idle grace starts).
            while !self.idle() {
                tokio::select! {
                    () = &mut sleep => break,
                    command = self.commands.recv() => match command {
                        Some(command) => {
                            let _ = self.apply(command);
                        }
                        None => return,
                    },
                }
            }
        }
    }

    /// Whether nothing is live: no query and no request.
    fn idle(&self) -> bool {
        self.queries.is_empty() && self.requests.is_empty()
    }

    /// With nothing live and no socket: the next command within the idle grace, else `None` once the
    /// connection has left the hub (or every handle is gone).
    async fn wait_idle(&mut self) -> Option<Command> {
        let grace = tokio::time::sleep(self.settings.idle_timeout);
        tokio::select! {
            command = self.commands.recv() => command,
            () = grace => self.retire(),
        }
    }

    /// Leaves the hub, unless a command is already queued (returned, to be handled): under the hub's lock,
    /// which every `Subscribe` and `Request` is sent under, so a command either is queued here now or goes
    /// to a fresh connection; none is sent to this one after it closes.
    fn retire(&mut self) -> Option<Command> {
        let hub = self.hub.upgrade();
        let mut hub_state = hub.as_ref().map(|hub| super::lock(&hub.state));
        if let Ok(command) = self.commands.try_recv() {
            return Some(command);
        }
        if let Some(hub_state) = hub_state.as_mut() {
            if hub_state
                .connections
                .get(&self.auth)
                .is_some_and(|connection| connection.id == self.id)
            {
                hub_state.connections.remove(&self.auth);
            }
        }
        self.commands.close();
        // Before a fresh connection of the same credential (which may share this state) can say more.
        self.state.send_replace(ConnectionState::Idle);
        drop(hub_state);
        tracing::debug!(target: "convex_fetch::live", "closed an idle live connection");
        None
    }

    /// Records a subscriber of (path, args); the query's id when it is new to the connection, to be added.
    fn subscribe(
        &mut self,
        path: String,
        args: Value,
        reply: oneshot::Sender<Subscribed>,
    ) -> Option<u32> {
        let key = format!("{}\u{0}{args}", canonical_path(&path));
        let query_id = match self.keys.get(&key) {
            Some(&id) => id,
            None => {
                let id = self.next_query_id;
                self.next_query_id += 1;
                let (results, _) = watch::channel(Latest::new(Outcome::Pending));
                self.queries.insert(
                    id,
                    Query {
                        path,
                        args,
                        key: key.clone(),
                        subscribers: 0,
                        journal: None,
                        results,
                    },
                );
                self.keys.insert(key, id);
                id
            }
        };
        let query = self.queries.get_mut(&query_id)?;
        query.subscribers += 1;
        let new = query.subscribers == 1;
        let _ = reply.send(Subscribed {
            query_id,
            results: query.results.subscribe(),
        });
        new.then_some(query_id)
    }

    /// Records commands that arrived together, and the messages they make: the queries they add go in one
    /// `ModifyQuerySet`, so that thousands of subscriptions opened at once cost a few messages, not one each.
    fn apply_all(&mut self, commands: Vec<Command>) -> Vec<String> {
        let mut out = Vec::new();
        let mut adds = Vec::new();
        for command in commands {
            match command {
                Command::Subscribe { path, args, reply } => {
                    adds.extend(self.subscribe(path, args, reply));
                }
                other => {
                    // In order: the adds before a later removal of one of them.
                    out.extend(self.add_message(&std::mem::take(&mut adds)));
                    out.extend(self.apply(other));
                }
            }
        }
        out.extend(self.add_message(&adds));
        // Requests made by these commands (and any not yet sent on this socket).
        out.extend(self.unsent_requests());
        out
    }

    /// Records a command; a socket, if any, is written by the caller from what changed.
    fn apply(&mut self, command: Command) -> Option<String> {
        match command {
            Command::Subscribe { path, args, reply } => {
                let query_id = self.subscribe(path, args, reply)?;
                self.add_message(&[query_id])
            }
            Command::Unsubscribe { query_id } => {
                let query = self.queries.get_mut(&query_id)?;
                query.subscribers = query.subscribers.saturating_sub(1);
                if query.subscribers > 0 {
                    return None;
                }
                let query = self.queries.remove(&query_id)?;
                self.keys.remove(&query.key);
                self.next_version(vec![Modification::Remove { query_id }])
            }
            Command::Request {
                kind,
                path,
                args,
                reply,
            } => {
                let id = self.next_request_id;
                self.next_request_id = self.next_request_id.wrapping_add(1);
                self.requests.insert(
                    id,
                    Request {
                        kind,
                        path,
                        args,
                        state: RequestState::Unsent,
                        sent_before: false,
                        value: None,
                        reply: Some(reply),
                    },
                );
                None
            }
        }
    }

    fn add_message(&mut self, query_ids: &[u32]) -> Option<String> {
        // Messages are built only while a socket is up (query_set > 0 after its preamble).
        if self.query_set == 0 || query_ids.is_empty() {
            return None;
        }
        let adds: Vec<Modification<'_>> = query_ids
            .iter()
            .filter_map(|query_id| {
                let query = self.queries.get(query_id)?;
                Some(Modification::Add {
                    query_id: *query_id,
                    path: &query.path,
                    args: &query.args,
                    journal: None,
                })
            })
            .collect();
        let message = protocol::modify_query_set(self.query_set, self.query_set + 1, &adds);
        self.query_set += 1;
        Some(message)
    }

    fn next_version(&mut self, modifications: Vec<Modification<'_>>) -> Option<String> {
        if self.query_set == 0 {
            return None;
        }
        let message =
            protocol::modify_query_set(self.query_set, self.query_set + 1, &modifications);
        self.query_set += 1;
        Some(message)
    }

    /// What a new socket starts with, which starts at version 0 on both sides: `Connect`, then the whole
    /// query set in one `ModifyQuerySet` and the requests not yet answered; and the `Authenticate` that goes
    /// right after `Connect`, apart, since it carries the credential (written past tungstenite's trace log).
    fn socket_opened(&mut self) -> (Vec<String>, Option<String>) {
        self.remote = StateVersion::default();
        self.identity = 0;
        let mut preamble = vec![protocol::connect(
            &self.session_id,
            self.connection_count,
            &self.last_close_reason,
            self.max_observed,
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
        )];
        self.connection_count += 1;
        let mut secret = None;
        if let Some(credential) = &self.credential {
            secret = Some(protocol::authenticate(0, credential));
            self.identity = 1;
        }
        let adds: Vec<Modification<'_>> = self
            .queries
            .iter()
            .map(|(&query_id, query)| Modification::Add {
                query_id,
                path: &query.path,
                args: &query.args,
                journal: query.journal.as_ref(),
            })
            .collect();
        preamble.push(protocol::modify_query_set(0, 1, &adds));
        self.query_set = 1;
        preamble.extend(self.unsent_requests());
        (preamble, secret)
    }

    /// Opens a socket and serves it; `Ok` when every handle is gone.
    async fn serve(&mut self) -> Result<(), Lost> {
        if self.connection_count == 0 {
            self.state.send_replace(ConnectionState::Connecting);
        }
        // A cause on this side (a failed send, a silent server) retries sooner, as the official client does.
        let quick = Duration::from_millis(100).min(self.settings.initial_backoff);
        let client_lost = move |reason: String| Lost {
            reason,
            initial: quick,
            refused: false,
            fail: None,
        };
        if let Auth::Tokens(TokensKey(tokens)) = &self.auth {
            let tokens = tokens.clone();
            let fresh = std::mem::take(&mut self.fresh_token);
            let token = self.fetch_token(&tokens, fresh).await?;
            self.expires_at = token.expires_at();
            self.credential = Some(Credential::User(token.expose().to_owned()));
        }
        let mut request = self
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| client_lost(format!("the WebSocket URL is invalid: {e}")))?;
        request.headers_mut().insert(
            "Convex-Client",
            http::HeaderValue::from_static(CONVEX_CLIENT),
        );
        let mut config = WebSocketConfig::default();
        config.max_message_size = Some(self.settings.max_message_bytes);
        config.max_frame_size = Some(self.settings.max_message_bytes);
        let tls = match &self.tls {
            Some(tls) => tls.clone(),
            None => {
                let tls = tls_config(&self.socket_tls).map_err(|e| self.lost(e))?;
                self.tls = Some(tls.clone());
                tls
            }
        };
        // The TCP connection goes where the client's calls go (directly or through their proxy), then TLS and
        // the WebSocket handshake on it.
        let host = request
            .uri()
            .host()
            .unwrap_or_default()
            .trim_matches(['[', ']'])
            .to_owned();
        let port = request
            .uri()
            .port_u16()
            .unwrap_or(match request.uri().scheme_str() {
                Some("wss") => 443,
                _ => 80,
            });
        let route = &self.socket_tls.route;
        let connect = async {
            let stream = socket::open(route, &host, port)
                .await
                .map_err(|reason| self.lost(reason))?;
            tokio_tungstenite::client_async_tls_with_config(
                request,
                stream,
                Some(config),
                Some(tokio_tungstenite::Connector::Rustls(tls)),
            )
            .await
            .map_err(|e| self.not_opened(e))
        };
        let mut socket = match tokio::time::timeout(self.settings.connect_timeout, connect).await {
            Err(_) => {
                return Err(self.lost(format!(
                    "opening the WebSocket took over {:?}",
                    self.settings.connect_timeout
                )));
            }
            Ok(Err(lost)) => return Err(lost),
            Ok(Ok((socket, _response))) => socket,
        };

        let (preamble, mut secret) = self.socket_opened();
        for (i, text) in preamble.into_iter().enumerate() {
            if i == 1 {
                if let Some(secret) = secret.take() {
                    socket::send_secret(&mut socket, &secret)
                        .await
                        .map_err(client_lost)?;
                }
            }
            socket
                .send(Message::text(text))
                .await
                .map_err(|e| client_lost(format!("sending failed: {e}")))?;
        }
        self.state.send_replace(ConnectionState::Connected);
        tracing::info!(target: "convex_fetch::live", connection = self.connection_count, "live connection open");

        let silence = self.settings.silence_timeout;
        let mut last_frame = Instant::now();
        let mut tick = tokio::time::interval((silence / 4).max(Duration::from_millis(10)));
        let mut refresh = self.refresh_deadline();
        // When a connection with nothing live closes.
        let mut idle_since: Option<tokio::time::Instant> = None;
        loop {
            if !self.idle() {
                idle_since = None;
            } else if idle_since.is_none() {
                idle_since = Some(tokio::time::Instant::now() + self.settings.idle_timeout);
            }
            tokio::select! {
                () = until(idle_since) => {
                    idle_since = None;
                    match self.retire() {
                        None => {
                            let _ = socket.close(None).await;
                            return Ok(());
                        }
                        Some(command) => {
                            let out = self.apply_all(vec![command]);
                            for text in out {
                                socket.send(Message::text(text))
                                    .await
                                    .map_err(|e| client_lost(format!("sending failed: {e}")))?;
                            }
                        }
                    }
                }
                () = until(refresh) => {
                    refresh = None;
                    let Auth::Tokens(TokensKey(tokens)) = &self.auth else { continue };
                    let tokens = tokens.clone();
                    let token = match self.fetch_token(&tokens, false).await {
                        Ok(token) => token,
                        Err(lost) if lost.refused => return Err(lost),
                        Err(lost) => {
                            // The socket's token is still good for a while: try again later.
                            tracing::warn!(target: "convex_fetch::live", "refreshing the token failed: {}", lost.reason);
                            refresh = after(self.settings.initial_backoff.max(MIN_REFRESH_WAIT));
                            continue;
                        }
                    };
                    let credential = Credential::User(token.expose().to_owned());
                    if self.credential.as_ref() == Some(&credential) {
                        // The source gave the same token: ask again later, while it is still valid.
                        refresh = token.expires_at().and_then(|at| at.duration_since(SystemTime::now()).ok())
                            .and_then(|left| after((left / 2).max(MIN_REFRESH_WAIT)));
                        continue;
                    }
                    // Re-authenticates the open socket: its queries re-run under the new identity.
                    let text = protocol::authenticate(self.identity, &credential);
                    self.identity += 1;
                    self.credential = Some(credential);
                    self.expires_at = token.expires_at();
                    tracing::debug!(target: "convex_fetch::live", identity = self.identity, "re-authenticated the live connection with a fresh token");
                    socket::send_secret(&mut socket, &text).await.map_err(client_lost)?;
                    refresh = self.refresh_deadline();
                }
                command = self.commands.recv() => {
                    let Some(command) = command else {
                        let _ = socket.close(None).await;
                        return Ok(());
                    };
                    // With those queued behind it: subscriptions opened together share a message.
                    let mut commands = vec![command];
                    while commands.len() < MAX_BATCH {
                        match self.commands.try_recv() {
                            Ok(command) => commands.push(command),
                            Err(_) => break,
                        }
                    }
                    let out = self.apply_all(commands);
                    for text in out {
                        socket.send(Message::text(text))
                            .await
                            .map_err(|e| client_lost(format!("sending failed: {e}")))?;
                    }
                }
                frame = socket.next() => {
                    last_frame = Instant::now();
                    match frame {
                        None => return Err(self.lost("the server closed the connection".to_owned())),
                        Some(Err(e)) => return Err(self.lost(format!("the connection failed: {e}"))),
                        Some(Ok(Message::Text(text))) => self.receive(text.as_str())?,
                        Some(Ok(Message::Close(frame))) => {
                            let code = frame.as_ref().map_or(1005, |frame| u16::from(frame.code));
                            let reason = match frame {
                                Some(frame) if !frame.reason.is_empty() => {
                                    format!("closed with code {code}: {}", frame.reason)
                                }
                                _ => format!("closed with code {code}"),
                            };
                            let mut lost = self.lost(reason);
                            if code == 1013 {
                                // Try Again Later: the deployment is overloaded; start the waits longer.
                                lost.initial = lost.initial.max(OVERLOADED_BACKOFF).min(self.settings.max_backoff);
                            }
                            return Err(lost);
                        }
                        Some(Ok(Message::Binary(_))) => {
                            return Err(self.lost("the server sent a binary frame".to_owned()));
                        }
                        // Pings are answered by tungstenite; any frame proves the server alive.
                        Some(Ok(_)) => {}
                    }
                }
                _ = tick.tick() => {
                    if last_frame.elapsed() > silence {
                        return Err(client_lost(format!("no frame from the server for {silence:?}")));
                    }
                }
            }
        }
    }

    fn lost(&self, reason: String) -> Lost {
        Lost {
            reason,
            initial: self.settings.initial_backoff,
            refused: false,
            fail: None,
        }
    }

    /// Why the WebSocket did not open. A client-error answer to the upgrade (404: no sync endpoint at this
    /// URL; 401, 403: not let through) will not change by retrying the same request: every stream and
    /// pending request is told, and the reconnects go on with a growing backoff. 408 and 429 are waits.
    fn not_opened(&self, error: tokio_tungstenite::tungstenite::Error) -> Lost {
        use tokio_tungstenite::tungstenite::Error as WsError;
        let WsError::Http(response) = &error else {
            return self.lost(format!("the WebSocket did not open: {error}"));
        };
        let status = response.status();
        let message = response
            .body()
            .as_deref()
            .map(|body| {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                match text.char_indices().nth(MAX_REFUSAL_CHARS) {
                    Some((end, _)) => format!("{}…", &text[..end]),
                    None => text.to_owned(),
                }
            })
            .unwrap_or_default();
        let lost = self.lost(format!(
            "the deployment refused the WebSocket with HTTP {status}"
        ));
        let permanent = status.is_client_error()
            && status != http::StatusCode::REQUEST_TIMEOUT
            && status != http::StatusCode::TOO_MANY_REQUESTS;
        if !permanent {
            return lost;
        }
        // The loss itself is a warning with the status; the body is detail.
        tracing::debug!(target: "convex_fetch::live", status = status.as_u16(), "the deployment refused the WebSocket: {message}");
        Lost {
            fail: Some(Outcome::SocketRefused(Arc::new((status, message)))),
            ..lost
        }
    }

    /// A token from the source; a session it refuses fails the connection's streams and requests.
    async fn fetch_token(
        &mut self,
        tokens: &LiveTokens,
        fresh: bool,
    ) -> Result<crate::token::Token, Lost> {
        let fetched =
            tokio::time::timeout(self.settings.connect_timeout, tokens.fetch(fresh)).await;
        match fetched {
            Ok(Ok(token)) => Ok(token),
            Ok(Err(TokenError::Refused { reason })) => {
                self.refused(Arc::from(reason.as_str()));
                Err(Lost {
                    refused: true,
                    ..self.lost(format!("the token source refused the session: {reason}"))
                })
            }
            Ok(Err(error)) => Err(self.lost(format!("the token source failed: {error}"))),
            Err(_) => Err(self.lost(format!(
                "the token source took over {:?}",
                self.settings.connect_timeout
            ))),
        }
    }

    /// When the token in use is replaced: [`REFRESH_LEAD`] before it expires, or halfway there if sooner.
    fn refresh_deadline(&self) -> Option<tokio::time::Instant> {
        if !matches!(self.auth, Auth::Tokens(_)) {
            return None;
        }
        let left = self
            .expires_at?
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        let wait = left.saturating_sub(REFRESH_LEAD.min(left / 2));
        after(wait.max(MIN_REFRESH_WAIT))
    }

    /// The credential was refused: every query yields it, requests sent on this socket only fail with it,
    /// and requests sent on an earlier one may have run.
    fn refused(&mut self, refused: Arc<str>) {
        self.fail_all(Outcome::Refused(refused));
    }

    /// Every query yields `failure`; every pending request fails with it, or with `MayHaveRun` if it was
    /// sent on an earlier socket.
    fn fail_all(&mut self, failure: Outcome) {
        self.views.apply(|| {
            for query in self.queries.values() {
                query.publish(failure.clone());
            }
        });
        let ids: Vec<u32> = self.requests.keys().copied().collect();
        for id in ids {
            let sent_before = self.requests.get(&id).is_some_and(|r| r.sent_before);
            let outcome = if sent_before {
                Outcome::MayHaveRun
            } else {
                failure.clone()
            };
            self.complete(id, outcome);
        }
    }

    /// Ends request `id` with `outcome`: the one place a request leaves the connection and its caller is
    /// answered (a caller that gave up is not, and the request goes all the same).
    fn complete(&mut self, id: u32, outcome: Outcome) {
        if let Some(request) = self.requests.remove(&id) {
            if let Some(reply) = request.reply {
                let _ = reply.send(outcome);
            }
        }
    }

    /// The requests not yet sent on this socket, marked sent: mutations (re-sent with their ids) and
    /// actions made while no socket was up.
    fn unsent_requests(&mut self) -> Vec<String> {
        if self.query_set == 0 {
            return Vec::new();
        }
        self.requests
            .iter_mut()
            .filter(|(_, r)| r.state == RequestState::Unsent)
            .map(|(&id, request)| {
                request.state = RequestState::Sent;
                let kind = match request.kind {
                    RequestKind::Mutation => "Mutation",
                    RequestKind::Action => "Action",
                };
                protocol::request(kind, id, &request.path, &request.args)
            })
            .collect()
    }

    /// Handles one text frame; `Err` loses the socket.
    fn receive(&mut self, text: &str) -> Result<(), Lost> {
        let message =
            protocol::parse(text).map_err(|e| self.lost(format!("the server sent {e}")))?;
        match message {
            ServerMessage::Transition(transition) => self.transition(transition),
            ServerMessage::MutationResponse(response) => {
                self.response(RequestKind::Mutation, response)
            }
            ServerMessage::ActionResponse(response) => self.response(RequestKind::Action, response),
            ServerMessage::AuthError(error) => {
                tracing::warn!(target: "convex_fetch::live", attempted = error.auth_update_attempted, "the deployment refused the credential: {}", error.error);
                // What this socket sent after its `Authenticate` did not run; what an earlier one sent may have.
                self.refused(Arc::from(error.error.as_str()));
                // A source is asked for a fresh token for the next socket.
                self.fresh_token = true;
                Err(self.lost(format!(
                    "the deployment refused the credential: {}",
                    error.error
                )))
            }
            ServerMessage::FatalError { error } => Err(Lost {
                reason: format!("the deployment sent a fatal error: {error}"),
                initial: self.settings.max_backoff,
                refused: false,
                // Every stream and pending request is told, once the socket's requests are counted lost.
                fail: Some(Outcome::Fatal(Arc::from(error.as_str()))),
            }),
            ServerMessage::Ping => Ok(()),
            ServerMessage::Unknown(kind) => {
                tracing::debug!(target: "convex_fetch::live", kind, "skipped a message of an unknown type");
                Ok(())
            }
        }
    }

    fn transition(&mut self, transition: Transition) -> Result<(), Lost> {
        let Transition {
            start_version,
            end_version,
            modifications,
        } = transition;
        if start_version != self.remote {
            return Err(self.lost(format!(
                "the server sent a Transition from version {start_version:?} while the client is at {:?}",
                self.remote
            )));
        }
        if end_version.ts < start_version.ts
            || end_version.query_set > self.query_set
            || end_version.identity > self.identity
        {
            return Err(self.lost(format!(
                "the server sent a Transition to version {end_version:?}, which the client never asked for"
            )));
        }
        // All of a Transition's results at once: a query set never reads half of them.
        let views = self.views.clone();
        views.apply(|| self.apply_modifications(modifications));
        self.remote = end_version;
        self.max_observed = Some(self.max_observed.unwrap_or(0).max(end_version.ts));
        // A mutation is final once a Transition reaches its commit.
        self.transition_reached();
        // The deployment answered this socket: its loss starts the backoff over.
        self.healthy = true;
        Ok(())
    }

    fn apply_modifications(&mut self, modifications: Vec<QueryModification>) {
        for modification in modifications {
            match modification {
                QueryModification::QueryUpdated {
                    query_id,
                    value,
                    journal,
                    log_lines,
                } => {
                    if let Some(query) = self.queries.get_mut(&query_id) {
                        for line in &log_lines {
                            tracing::debug!(target: "convex_fetch::live", path = %query.path, "{line}");
                        }
                        query.journal = journal;
                        query.publish(Outcome::Value(Arc::new(value)));
                    }
                }
                QueryModification::QueryFailed {
                    query_id,
                    error_message,
                    log_lines,
                    journal,
                    error_data,
                } => {
                    if let Some(query) = self.queries.get_mut(&query_id) {
                        query.journal = journal;
                        query.publish(Outcome::Failed(Arc::new(Failure {
                            message: error_message,
                            data: error_data,
                            log_lines,
                        })));
                    }
                }
                QueryModification::QueryRemoved { .. } => {}
            }
        }
    }

    fn response(&mut self, kind: RequestKind, response: Response) -> Result<(), Lost> {
        let id = response.request_id;
        // An unknown or finished id is a late answer to a re-sent request: absorbed.
        let Some(request) = self.requests.get_mut(&id) else {
            return Ok(());
        };
        if request.kind != kind || request.state != RequestState::Sent {
            return Ok(());
        }
        if !response.success {
            let message = match response.result {
                Value::String(message) => message,
                other => other.to_string(),
            };
            let outcome = Outcome::Failed(Arc::new(Failure {
                message,
                data: response.error_data,
                log_lines: response.log_lines,
            }));
            self.complete(id, outcome);
            return Ok(());
        }
        match kind {
            RequestKind::Action => {
                self.complete(id, Outcome::Value(Arc::new(response.result)));
                Ok(())
            }
            RequestKind::Mutation => {
                let ts = response
                    .ts
                    .as_deref()
                    .ok_or_else(|| "no `ts`".to_owned())
                    .and_then(protocol::decode_ts)
                    .map_err(|e| {
                        self.lost(format!(
                            "the server sent a successful MutationResponse with {e}"
                        ))
                    })?;
                let Some(request) = self.requests.get_mut(&id) else {
                    return Ok(());
                };
                request.value = Some(response.result);
                request.state = RequestState::Committed(ts);
                self.max_observed = Some(self.max_observed.unwrap_or(0).max(ts));
                if ts <= self.remote.ts {
                    // Already covered by a Transition seen.
                    self.transition_reached();
                }
                Ok(())
            }
        }
    }

    /// Completes the mutations whose commit the last Transition seen (`remote`) reached.
    fn transition_reached(&mut self) {
        let ts = self.remote.ts;
        let done: Vec<(u32, Value)> = self
            .requests
            .iter_mut()
            .filter(|(_, r)| matches!(r.state, RequestState::Committed(c) if c <= ts))
            .map(|(&id, r)| (id, r.value.take().unwrap_or(Value::Null)))
            .collect();
        for (id, value) in done {
            self.complete(id, Outcome::Value(Arc::new(value)));
        }
    }

    /// After a socket ends: actions in flight may have run and are failed; mutations are re-sent on the
    /// next socket with their ids; requests whose caller gave up are dropped.
    fn socket_lost(&mut self, reason: &str) {
        self.query_set = 0;
        self.remote = StateVersion::default();
        let ids: Vec<u32> = self.requests.keys().copied().collect();
        for id in ids {
            let Some(request) = self.requests.get_mut(&id) else {
                continue;
            };
            let was_sent = request.state != RequestState::Unsent;
            if request.kind == RequestKind::Action && was_sent {
                tracing::warn!(target: "convex_fetch::live", path = %request.path, "an action was in flight when the connection was lost ({reason})");
                self.complete(id, Outcome::MayHaveRun);
                continue;
            }
            if was_sent {
                request.sent_before = true;
                request.state = RequestState::Unsent;
            }
        }
    }
}

/// Waits until `deadline`, or forever without one.
async fn until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// What the server keys queries by: the grammar's canonical `module:export` (no `.js`, `default` for a bare
/// module), so that two spellings of one function share a server query. A path the grammar refuses keeps its
/// own text: the server refuses it in the query's answer.
fn canonical_path(path: &str) -> String {
    crate::grammar::FunctionPath::parse(path)
        .map_or_else(|_| path.to_owned(), |path| path.canonical())
}

/// The TLS settings of a socket: rustls with the ring provider, as reqwest's, trusting what the client's
/// HTTP calls trust (the webpki roots unless turned off, and the certificates added to the builder).
fn tls_config(settings: &SocketTls) -> Result<Arc<rustls::ClientConfig>, String> {
    static DEFAULT: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    if settings.roots_pem.is_empty() && settings.built_in_roots {
        return DEFAULT.get_or_init(|| build_tls(settings)).clone();
    }
    build_tls(settings)
}

fn build_tls(settings: &SocketTls) -> Result<Arc<rustls::ClientConfig>, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    if settings.built_in_roots {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    for pem in &settings.roots_pem {
        for certificate in CertificateDer::pem_slice_iter(pem) {
            let certificate =
                certificate.map_err(|e| format!("a root certificate could not be read: {e}"))?;
            roots
                .add(certificate)
                .map_err(|e| format!("a root certificate was refused: {e}"))?;
        }
    }
    // ring, the provider of reqwest's `rustls-tls` (one crypto provider in the binary, no C toolchain for
    // aws-lc). rustls 0.23.48 deprecates `ring::default_provider` because ring has no post-quantum key
    // exchange, with no other way to build ring's provider (its parts are private); the socket offers the
    // same groups as the HTTPS calls. `allow`, not `expect`: the locked version (0.23.46) does not deprecate
    // it, and `cargo update` picks one that does; both build without a warning.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|builder| Arc::new(builder.with_root_certificates(roots).with_no_client_auth()))
        .map_err(|e| format!("TLS could not be set up: {e}"))
}

/// The instant `wait` from now, or `None` (never) for a wait past any instant: a token whose `exp` is
/// centuries away is refreshed never, not a panic.
fn after(wait: Duration) -> Option<tokio::time::Instant> {
    tokio::time::Instant::now().checked_add(wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_ceiling_doubles_per_attempt_up_to_the_max_and_the_wait_stays_under_it() {
        let settings = LiveSettings::default();
        let (initial, max) = (settings.initial_backoff, settings.max_backoff);
        // The first retry after a healthy socket waits at most 100 ms, not a second.
        assert_eq!(ceiling(initial, max, 1), Duration::from_millis(100));
        let ceilings: Vec<Duration> = (1..=12).map(|n| ceiling(initial, max, n)).collect();
        assert!(ceilings.windows(2).all(|w| w[0] < w[1] || w[1] == max));
        assert_eq!(ceilings[1], Duration::from_millis(200));
        assert_eq!(ceilings[8], max.min(Duration::from_millis(25_600)));
        assert_eq!(ceiling(initial, max, u32::MAX), max);
        for attempt in 1..=12 {
            // Full jitter: anywhere from nothing to the ceiling.
            assert_eq!(backoff(initial, max, attempt, 0.0), Duration::ZERO);
            let top = backoff(initial, max, attempt, 0.999_999);
            assert!(top <= ceiling(initial, max, attempt));
            assert!(top >= ceiling(initial, max, attempt).mul_f64(0.99));
        }
    }

    /// A worker with no socket task, driven by hand through what its socket would do.
    fn worker() -> Worker {
        let (_, commands) = mpsc::unbounded_channel();
        let (state, _) = watch::channel(ConnectionState::Idle);
        Worker::new(
            "http://127.0.0.1:1".to_owned(),
            Auth::Static(None),
            LiveSettings::default(),
            commands,
            state,
            Arc::default(),
            SocketTls::default(),
            Weak::new(),
            0,
        )
    }

    /// What happens to a request, in order.
    #[derive(Debug, Clone, Copy)]
    enum Step {
        /// A socket is up: the requests not sent on it are; how many is checked.
        SocketUp {
            sends: usize,
        },
        /// The deployment answers: success with this commit timestamp (mutations), or failure.
        Answer {
            ts: Option<u64>,
        },
        Failed,
        /// A Transition to this timestamp.
        Transition(u64),
        /// The socket is lost.
        Lost,
        /// The deployment refuses the session for good.
        Fatal,
    }

    /// How the request's caller was answered at the end.
    #[derive(Debug, PartialEq)]
    enum Ended {
        Pending,
        Value,
        Failed,
        MayHaveRun,
        Fatal,
    }

    fn run(kind: RequestKind, steps: &[Step]) -> Ended {
        let mut w = worker();
        let (reply, mut answer) = oneshot::channel();
        w.apply(Command::Request {
            kind,
            path: "posts:create".to_owned(),
            args: serde_json::json!({}),
            reply,
        });
        let kind_name = match kind {
            RequestKind::Mutation => "Mutation",
            RequestKind::Action => "Action",
        };
        for step in steps {
            match *step {
                Step::SocketUp { sends } => {
                    w.query_set = 1;
                    let sent = w.unsent_requests();
                    assert_eq!(sent.len(), sends, "{step:?}: {sent:?}");
                    for message in sent {
                        // Always request 0: a re-sent mutation keeps its id, which the deployment deduplicates.
                        assert!(message.contains("\"requestId\":0"), "{message}");
                        assert!(message.contains(kind_name), "{message}");
                    }
                }
                Step::Answer { ts } => {
                    let response = Response {
                        request_id: 0,
                        success: true,
                        result: serde_json::json!("an id"),
                        ts: ts.map(protocol::encode_ts),
                        log_lines: Vec::new(),
                        error_data: None,
                    };
                    w.response(kind, response)
                        .map_err(|l| l.reason)
                        .expect("accepted");
                }
                Step::Failed => {
                    let response = Response {
                        request_id: 0,
                        success: false,
                        result: serde_json::json!("boom"),
                        ts: None,
                        log_lines: Vec::new(),
                        error_data: None,
                    };
                    w.response(kind, response)
                        .map_err(|l| l.reason)
                        .expect("accepted");
                }
                Step::Transition(ts) => {
                    let start = w.remote;
                    let end = StateVersion { ts, ..start };
                    w.transition(Transition {
                        start_version: start,
                        end_version: end,
                        modifications: Vec::new(),
                    })
                    .map_err(|l| l.reason)
                    .expect("in order");
                }
                Step::Lost => w.socket_lost("test"),
                Step::Fatal => w.fail_all(Outcome::Fatal(Arc::from("gone"))),
            }
        }
        let ended = match answer.try_recv() {
            Err(oneshot::error::TryRecvError::Empty) => Ended::Pending,
            Err(oneshot::error::TryRecvError::Closed) => {
                panic!("the request was dropped unanswered")
            }
            Ok(Outcome::Value(value)) => {
                assert_eq!(*value, serde_json::json!("an id"));
                Ended::Value
            }
            Ok(Outcome::Failed(failure)) => {
                assert_eq!(failure.message, "boom");
                Ended::Failed
            }
            Ok(Outcome::MayHaveRun) => Ended::MayHaveRun,
            Ok(Outcome::Fatal(_)) => Ended::Fatal,
            Ok(other) => panic!("unexpected {other:?}"),
        };
        // An answered request has left the connection; a pending one has not.
        assert_eq!(w.requests.is_empty(), ended != Ended::Pending);
        ended
    }

    #[test]
    fn a_request_is_completed_once_whatever_its_path() {
        use RequestKind::{Action, Mutation};
        use Step::*;
        let cases: &[(&str, RequestKind, &[Step], Ended)] = &[
            (
                "a mutation waits for a Transition that reaches its commit",
                Mutation,
                &[SocketUp { sends: 1 }, Answer { ts: Some(5) }, Transition(4)],
                Ended::Pending,
            ),
            (
                "then completes with it",
                Mutation,
                &[SocketUp { sends: 1 }, Answer { ts: Some(5) }, Transition(5)],
                Ended::Value,
            ),
            (
                "an answer after a Transition past its commit completes it at once",
                Mutation,
                &[SocketUp { sends: 1 }, Transition(9), Answer { ts: Some(5) }],
                Ended::Value,
            ),
            (
                "a mutation lost mid-flight is re-sent with its id and completes on the next socket",
                Mutation,
                &[
                    SocketUp { sends: 1 },
                    Lost,
                    SocketUp { sends: 1 },
                    Answer { ts: Some(3) },
                    Transition(3),
                ],
                Ended::Value,
            ),
            (
                "a mutation lost mid-flight, then refused for good, may have run",
                Mutation,
                &[SocketUp { sends: 1 }, Lost, Fatal],
                Ended::MayHaveRun,
            ),
            (
                "a mutation never sent, refused for good, gets the refusal",
                Mutation,
                &[Fatal],
                Ended::Fatal,
            ),
            (
                "a failed mutation",
                Mutation,
                &[SocketUp { sends: 1 }, Failed],
                Ended::Failed,
            ),
            (
                "a mutation committed but unconfirmed when the socket goes is re-sent",
                Mutation,
                &[
                    SocketUp { sends: 1 },
                    Answer { ts: Some(7) },
                    Lost,
                    SocketUp { sends: 1 },
                ],
                Ended::Pending,
            ),
            (
                "an action completes with its answer",
                Action,
                &[SocketUp { sends: 1 }, Answer { ts: None }],
                Ended::Value,
            ),
            (
                "an action in flight when the socket goes may have run, and is not re-sent",
                Action,
                &[SocketUp { sends: 1 }, Lost, SocketUp { sends: 0 }],
                Ended::MayHaveRun,
            ),
            (
                "an action not yet sent is sent on the first socket",
                Action,
                &[Lost, SocketUp { sends: 1 }],
                Ended::Pending,
            ),
        ];
        for (name, kind, steps, expected) in cases {
            assert_eq!(&run(*kind, steps), expected, "{name}");
        }
    }

    /// Subscribes to `posts:list` with `args` by hand: the message the worker would write, and the results.
    fn subscribe(w: &mut Worker, args: Value) -> (Option<String>, Subscribed) {
        let (reply, subscribed) = oneshot::channel();
        let message = w.apply(Command::Subscribe {
            path: "posts:list".to_owned(),
            args,
            reply,
        });
        (message, subscribed.blocking_recv().expect("subscribed"))
    }

    fn json(text: &str) -> Value {
        serde_json::from_str(text).expect("the worker writes JSON")
    }

    /// A Transition of the server from `from` to `to` (query set, identity, ts) updating query 0 to `value`.
    fn transition(from: (u32, u32, u64), to: (u32, u32, u64), value: Value) -> String {
        let version = |(query_set, identity, ts): (u32, u32, u64)| serde_json::json!({ "querySet": query_set, "identity": identity, "ts": protocol::encode_ts(ts) });
        serde_json::json!({
            "type": "Transition",
            "startVersion": version(from),
            "endVersion": version(to),
            "modifications": [{ "type": "QueryUpdated", "queryId": 0, "value": value, "logLines": [] }],
        })
        .to_string()
    }

    #[test]
    fn subscriptions_changed_while_disconnected_go_as_one_query_set_on_reconnect() {
        let mut w = worker();
        let (message, a) = subscribe(&mut w, serde_json::json!({ "n": 1 }));
        assert_eq!(message, None, "no socket: nothing is written");
        let (_, b) = subscribe(&mut w, serde_json::json!({ "n": 2 }));
        let (_, c) = subscribe(&mut w, serde_json::json!({ "n": 3 }));
        // A second subscriber of the first query shares it.
        let (message, a2) = subscribe(&mut w, serde_json::json!({ "n": 1 }));
        assert_eq!((message, a2.query_id), (None, a.query_id));
        assert_eq!(
            w.apply(Command::Unsubscribe {
                query_id: b.query_id
            }),
            None
        );
        // The first subscriber of the first query leaves; the second keeps it.
        assert_eq!(
            w.apply(Command::Unsubscribe {
                query_id: a.query_id
            }),
            None
        );

        let (preamble, secret) = w.socket_opened();
        assert_eq!(secret, None, "no credential");
        assert_eq!(json(&preamble[0])["type"], "Connect");
        let set = json(&preamble[1]);
        assert_eq!(
            (set["baseVersion"].as_u64(), set["newVersion"].as_u64()),
            (Some(0), Some(1))
        );
        let ids: Vec<u64> = set["modifications"]
            .as_array()
            .expect("modifications")
            .iter()
            .map(|m| m["queryId"].as_u64().expect("an id"))
            .collect();
        assert_eq!(ids, [u64::from(a.query_id), u64::from(c.query_id)]);
        assert_eq!(preamble.len(), 2);

        // Once connected, each change is its own next version.
        let (message, _d) = subscribe(&mut w, serde_json::json!({ "n": 4 }));
        let add = json(&message.expect("an Add"));
        assert_eq!(
            (add["baseVersion"].as_u64(), add["newVersion"].as_u64()),
            (Some(1), Some(2))
        );
        let remove = json(
            &w.apply(Command::Unsubscribe {
                query_id: c.query_id,
            })
            .expect("a Remove"),
        );
        assert_eq!(remove["modifications"][0]["type"], "Remove");
        assert_eq!(remove["newVersion"].as_u64(), Some(3));
    }

    #[test]
    fn a_transition_out_of_order_or_past_the_query_set_loses_the_socket() {
        let mut w = worker();
        let (_, query) = subscribe(&mut w, serde_json::json!({}));
        let _ = w.socket_opened();
        // From a version the client is not at.
        let lost = w
            .receive(&transition((0, 0, 5), (1, 0, 6), Value::from(1)))
            .err();
        assert!(lost.is_some_and(|l| l.reason.contains("from version")));
        // To a query set the client never sent (it sent 1).
        let lost = w
            .receive(&transition((0, 0, 0), (2, 0, 6), Value::from(1)))
            .err();
        assert!(lost.is_some_and(|l| l.reason.contains("never asked for")));
        // Backwards in time.
        let _ = w.receive(&transition((0, 0, 0), (1, 0, 6), Value::from(1)));
        let lost = w
            .receive(&transition((1, 0, 6), (1, 0, 2), Value::from(2)))
            .err();
        assert!(lost.is_some_and(|l| l.reason.contains("never asked for")));
        // The one in order was applied, the bad ones not.
        assert!(matches!(&query.results.borrow().outcome, Outcome::Value(v) if **v == 1));
        assert_eq!(w.remote.ts, 6);
    }

    #[test]
    fn a_refused_token_fails_the_queries_until_a_socket_accepts_the_next() {
        let mut w = worker();
        w.credential = Some(Credential::User("a token".to_owned()));
        let (_, query) = subscribe(&mut w, serde_json::json!({}));
        let (_, secret) = w.socket_opened();
        let secret = json(&secret.expect("an Authenticate"));
        assert_eq!(secret["type"], "Authenticate");
        let lost = w
            .receive(r#"{"type":"AuthError","error":"expired","baseVersion":0}"#)
            .expect_err("the socket is lost");
        assert!(lost.reason.contains("expired"), "{}", lost.reason);
        assert!(w.fresh_token, "the next socket asks for a fresh token");
        assert!(
            matches!(&query.results.borrow().outcome, Outcome::Refused(m) if &**m == "expired")
        );
        w.socket_lost(&lost.reason);
        // The next socket's token is accepted: the query has a value again.
        let (preamble, secret) = w.socket_opened();
        assert!(secret.is_some());
        assert_eq!(json(&preamble[1])["modifications"][0]["queryId"], 0);
        w.receive(&transition((0, 0, 0), (1, 1, 3), Value::from("fresh")))
            .map_err(|l| l.reason)
            .expect("in order");
        assert!(matches!(&query.results.borrow().outcome, Outcome::Value(v) if **v == "fresh"));
    }

    #[test]
    fn paths_and_urls() {
        assert_eq!(canonical_path("posts.js:list"), "posts:list");
        assert_eq!(canonical_path("posts"), "posts:default");
        assert_eq!(canonical_path("v1.api/posts.js:list"), "v1.api/posts:list");
        assert_eq!(canonical_path("posts:list:x"), "posts:list:x");
        assert_eq!(
            SocketUrl::of("https://happy-otter-123.convex.cloud"),
            "wss://happy-otter-123.convex.cloud/api/sync"
        );
        assert_eq!(
            SocketUrl::of("http://127.0.0.1:3210/prefix"),
            "ws://127.0.0.1:3210/prefix/api/sync"
        );
    }
}
