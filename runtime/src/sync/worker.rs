//! One live connection: a task that owns the WebSocket of one (client, credential) and its waits (backoff,
//! token refresh, silence, idle grace), and replaces the socket when it is lost. What to send and what to
//! publish is decided by its [`Session`] (the query set, the requests, the versions, the identity), which
//! does no I/O; this file moves frames and commands between it and the socket.

use super::ConnectionState;
use super::latest::Latest;
use super::protocol::Credential;
use super::session::{Lost, Session};
use super::socket;
use crate::live_settings::{LiveSettings, SocketTls};
use crate::token::{LiveTokens, TokenError};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant, SystemTime};
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
        args: super::Args,
        reply: oneshot::Sender<Subscribed>,
    },
    Unsubscribe {
        query_id: u32,
    },
    Request {
        kind: RequestKind,
        path: String,
        args: super::Args,
        reply: oneshot::Sender<Outcome>,
    },
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
    pub(super) fn apply<R>(&self, apply: impl FnOnce() -> R) -> R {
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
    auth: Auth,
    /// When the token in use expires, if it came from a token source and says.
    expires_at: Option<SystemTime>,
    settings: LiveSettings,
    commands: mpsc::UnboundedReceiver<Command>,
    state: watch::Sender<ConnectionState>,
    /// The protocol's state, which decides what to send and what to publish.
    session: Session,
    /// How many attempts in a row have failed.
    attempt: u32,
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
            session: Session::new(views, settings.clone(), credential),
            auth,
            expires_at: None,
            settings,
            commands,
            state,
            attempt: 0,
            hub,
            id,
        }
    }

    /// Serves until every handle (the client's hub, each subscription) is gone, or until it has been idle
    /// for the grace period and has left the hub.
    pub(crate) async fn run(mut self) {
        loop {
            if self.session.idle() {
                // No socket: nothing to send yet.
                match self.wait_idle().await {
                    Some(command) => {
                        let _ = self.session.apply(command);
                        // With those queued behind it, so that the first socket carries them all.
                        while let Ok(command) = self.commands.try_recv() {
                            let _ = self.session.apply(command);
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
            self.session.socket_lost(&lost.reason);
            if let Some(outcome) = lost.fail {
                self.session.fail_all(outcome);
            }
            // Only a socket the deployment answered starts the count over: a refused upgrade, a failed
            // handshake and a socket lost before its first Transition all make the next wait longer.
            if std::mem::take(&mut self.session.healthy) {
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
            self.session.last_close_reason = lost.reason;
            let sleep = tokio::time::sleep(delay);
            tokio::pin!(sleep);
            // Until the wait is over, or everything was dropped meanwhile (then the idle grace starts).
            while !self.session.idle() {
                tokio::select! {
                    () = &mut sleep => break,
                    command = self.commands.recv() => match command {
                        Some(command) => {
                            let _ = self.session.apply(command);
                        }
                        None => return,
                    },
                }
            }
        }
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
        if let Some(hub_state) = hub_state.as_mut()
            && hub_state
                .connections
                .get(&self.auth)
                .is_some_and(|connection| connection.id == self.id)
        {
            hub_state.connections.remove(&self.auth);
        }
        self.commands.close();
        // Before a fresh connection of the same credential (which may share this state) can say more.
        self.state.send_replace(ConnectionState::Idle);
        drop(hub_state);
        tracing::debug!(target: "convex_fetch::live", "closed an idle live connection");
        None
    }

    /// Opens a socket and serves it; `Ok` when every handle is gone.
    async fn serve(&mut self) -> Result<(), Lost> {
        if self.session.connection_count == 0 {
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
            let fresh = std::mem::take(&mut self.session.fresh_token);
            let token = self.fetch_token(&tokens, fresh).await?;
            self.expires_at = token.expires_at();
            self.session.credential = Some(Credential::User(token.expose().to_owned()));
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
                let tls = tls_config(&self.socket_tls).map_err(|e| self.session.lost(e))?;
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
                .map_err(|reason| self.session.lost(reason))?;
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
                return Err(self.session.lost(format!(
                    "opening the WebSocket took over {:?}",
                    self.settings.connect_timeout
                )));
            }
            Ok(Err(lost)) => return Err(lost),
            Ok(Ok((socket, _response))) => socket,
        };

        let (preamble, mut secret) = self.session.socket_opened();
        for (i, text) in preamble.into_iter().enumerate() {
            if i == 1
                && let Some(secret) = secret.take()
            {
                socket::send_secret(&mut socket, &secret)
                    .await
                    .map_err(client_lost)?;
            }
            socket
                .send(Message::text(text))
                .await
                .map_err(|e| client_lost(format!("sending failed: {e}")))?;
        }
        self.state.send_replace(ConnectionState::Connected);
        tracing::info!(target: "convex_fetch::live", connection = self.session.connection_count, "live connection open");

        let silence = self.settings.silence_timeout;
        let mut last_frame = Instant::now();
        let mut tick = tokio::time::interval((silence / 4).max(Duration::from_millis(10)));
        let mut refresh = self.refresh_deadline();
        // When a connection with nothing live closes.
        let mut idle_since: Option<tokio::time::Instant> = None;
        loop {
            if !self.session.idle() {
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
                            let out = self.session.apply_all(vec![command]);
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
                    if self.session.credential.as_ref() == Some(&credential) {
                        // The source gave the same token: ask again later, while it is still valid.
                        refresh = token.expires_at().and_then(|at| at.duration_since(SystemTime::now()).ok())
                            .and_then(|left| after((left / 2).max(MIN_REFRESH_WAIT)));
                        continue;
                    }
                    // Re-authenticates the open socket: its queries re-run under the new identity.
                    let text = self.session.reauthenticate(credential);
                    self.expires_at = token.expires_at();
                    tracing::debug!(target: "convex_fetch::live", "re-authenticated the live connection with a fresh token");
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
                    let out = self.session.apply_all(commands);
                    for text in out {
                        socket.send(Message::text(text))
                            .await
                            .map_err(|e| client_lost(format!("sending failed: {e}")))?;
                    }
                }
                frame = socket.next() => {
                    last_frame = Instant::now();
                    match frame {
                        None => return Err(self.session.lost("the server closed the connection".to_owned())),
                        Some(Err(e)) => return Err(self.session.lost(format!("the connection failed: {e}"))),
                        Some(Ok(Message::Text(text))) => self.session.receive(text.as_str())?,
                        Some(Ok(Message::Close(frame))) => {
                            let code = frame.as_ref().map_or(1005, |frame| u16::from(frame.code));
                            let reason = match frame {
                                Some(frame) if !frame.reason.is_empty() => {
                                    format!("closed with code {code}: {}", frame.reason)
                                }
                                _ => format!("closed with code {code}"),
                            };
                            let mut lost = self.session.lost(reason);
                            if code == 1013 {
                                // Try Again Later: the deployment is overloaded; start the waits longer.
                                lost.initial = lost.initial.max(OVERLOADED_BACKOFF).min(self.settings.max_backoff);
                            }
                            return Err(lost);
                        }
                        Some(Ok(Message::Binary(_))) => {
                            return Err(self.session.lost("the server sent a binary frame".to_owned()));
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

    /// Why the WebSocket did not open. A client-error answer to the upgrade (404: no sync endpoint at this
    /// URL; 401, 403: not let through) will not change by retrying the same request: every stream and
    /// pending request is told, and the reconnects go on with a growing backoff. 408 and 429 are waits.
    fn not_opened(&self, error: tokio_tungstenite::tungstenite::Error) -> Lost {
        use tokio_tungstenite::tungstenite::Error as WsError;
        let WsError::Http(response) = &error else {
            return self
                .session
                .lost(format!("the WebSocket did not open: {error}"));
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
        let lost = self.session.lost(format!(
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
                self.session.refused(Arc::from(reason.as_str()));
                Err(Lost {
                    refused: true,
                    ..self
                        .session
                        .lost(format!("the token source refused the session: {reason}"))
                })
            }
            Ok(Err(error)) => Err(self
                .session
                .lost(format!("the token source failed: {error}"))),
            Err(_) => Err(self.session.lost(format!(
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
}

/// Waits until `deadline`, or forever without one.
async fn until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
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

    #[test]
    fn socket_urls() {
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
