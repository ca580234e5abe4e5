//! The settings of a client's live connection (the sync WebSocket of subscriptions): how it reconnects and
//! when it counts the server as gone. A leaf module, so that the client can hold them.

use crate::token::LiveTokens;
use std::fmt;
use std::time::Duration;

/// How a client's WebSocket reconnects, and when a silent one is replaced. Set with
/// [`ClientBuilder::live`](crate::ClientBuilder::live); the defaults follow the official clients.
///
/// ```
/// use convex_fetch::LiveSettings;
/// use std::time::Duration;
///
/// let settings = LiveSettings::default().max_backoff(Duration::from_secs(5));
/// let client = convex_fetch::Client::builder("https://happy-otter-123.convex.cloud").live(settings).build()?;
/// # let _ = client; Ok::<(), convex_fetch::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSettings {
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) silence_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) tokens: Option<LiveTokens>,
    pub(crate) max_message_bytes: usize,
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            // A lost healthy socket is replaced at once, as the official Rust client does; the growth and
            // the full jitter spread a crowd of clients out if that fails (see `initial_backoff`).
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(16),
            // The server pings every 5 s and sends a JSON `Ping` after 15 s of silence.
            silence_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(5),
            tokens: None,
            // tungstenite's default, as the backend's.
            max_message_bytes: 64 << 20,
        }
    }
}

impl LiveSettings {
    /// The longest wait before the first reconnect after a healthy socket is lost. Default 100 ms.
    ///
    /// The wait before the `n`th attempt in a row is drawn at random between zero and
    /// `initial_backoff × 2ⁿ⁻¹`, capped at [`max_backoff`](Self::max_backoff) ("full jitter"). Every failed
    /// attempt counts: a refused upgrade (a 404, a 401), a socket that did not open, and one that opened but
    /// was lost before the deployment answered it with a Transition. The count starts over only once a
    /// socket has been answered.
    ///
    /// Why this shape: a socket dropped under a healthy deployment (a deploy, a load balancer recycling
    /// connections) comes back at once, within 100 ms by default, so subscriptions are live again without a
    /// visible pause (the official Rust client draws its waits the same way, from 100 ms; the JavaScript
    /// client waits 1 s ± 50 % after a close by the server). A crowd of clients dropped together spreads its
    /// first attempts over that window rather than arriving at one instant; if the deployment is
    /// struggling those attempts fail, each client's window doubles and the whole range below it stays in
    /// use, so the load falls with every round instead of coming back in synchronized waves. A close with
    /// code 1013 (the deployment says it is overloaded) starts from 3 s instead, and a `FatalError` from
    /// `max_backoff`. A deployment that keeps refusing the socket is retried about every `max_backoff / 2`
    /// on average.
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The longest wait between reconnects (the ceiling of the random draw). Default 16 s.
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// How long the connection may go without any frame from the server (the server pings every 5 s) before
    /// it is counted as dead and replaced. Default 30 s.
    pub fn silence_timeout(mut self, timeout: Duration) -> Self {
        self.silence_timeout = timeout;
        self
    }

    /// How long opening the WebSocket (TCP, TLS and the upgrade) may take. Default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a connection with no subscription and no socket call in flight stays open before it closes
    /// its socket and ends its task. Default 5 s.
    ///
    /// A client keeps one connection per credential (per token source): without this, a server subscribing
    /// on behalf of many users, each with a token of their own, would keep a socket and a task per token it
    /// ever saw. The grace period lets a subscription dropped and opened again at once (a page re-rendered)
    /// keep its socket. A subscription after the connection closed opens a fresh one.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// The largest message read from the server; a larger one loses the connection, which is replaced (the
    /// subscriptions keep their last value and resubscribe). Default 64 MiB, the backend's own limit.
    pub fn max_message_bytes(mut self, limit: usize) -> Self {
        self.max_message_bytes = limit;
        self
    }

    /// Authenticates the client's live connection with tokens from `tokens`, fetched for each socket and
    /// refreshed before they expire, for every live call that has no credential of its own (`.auth`,
    /// `.admin_key`, [`with_auth`](crate::with_auth)) and on a client built without one.
    pub fn tokens(mut self, tokens: LiveTokens) -> Self {
        self.tokens = Some(tokens);
        self
    }
}

/// The TLS settings and the route of the socket, from the client's builder: the socket trusts what the HTTP
/// calls trust, and goes through the proxy they go through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SocketTls {
    /// The PEMs given to `add_root_certificate_pem`.
    pub(crate) roots_pem: Vec<Vec<u8>>,
    pub(crate) built_in_roots: bool,
    /// Directly, or through the proxy the client's calls use.
    pub(crate) route: SocketRoute,
}

impl Default for SocketTls {
    fn default() -> Self {
        SocketTls {
            roots_pem: Vec::new(),
            built_in_roots: true,
            route: SocketRoute::Direct,
        }
    }
}

/// How the socket reaches the deployment: decided once, when the client is built, by the rules reqwest
/// applies to the client's calls to the deployment URL (reqwest reads the environment then too).
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum SocketRoute {
    /// No proxy for the deployment.
    Direct,
    /// Through the `http://` proxy at `host:port`, with a `CONNECT` tunnel.
    Tunnel {
        /// The proxy's `host:port`.
        proxy: String,
        /// The `Proxy-Authorization` the proxy URL's credentials make, if any.
        authorization: Option<http::HeaderValue>,
    },
    /// Through a proxy the socket cannot use (`https://`, `socks5://`): live calls are refused.
    Unsupported {
        /// The proxy URL's scheme.
        scheme: String,
    },
}

impl SocketRoute {
    /// The route to the deployment at `url`: through `proxy` (a URL given to the builder, for every
    /// destination, as `reqwest::Proxy::all` makes it), else as the environment says, by reqwest's rules.
    pub(crate) fn to(url: &str, proxy: Option<&str>) -> SocketRoute {
        use hyper_util::client::proxy::matcher::Matcher;
        let matcher = match proxy {
            Some(proxy) => Matcher::builder().all(proxy.to_owned()).build(),
            // What reqwest's client uses when it is given no proxy of its own.
            None => Matcher::from_system(),
        };
        let Some(intercept) = url
            .parse::<http::Uri>()
            .ok()
            .and_then(|uri| matcher.intercept(&uri))
        else {
            return SocketRoute::Direct;
        };
        let uri = intercept.uri();
        match (uri.scheme_str(), uri.host()) {
            (Some("http"), Some(host)) => SocketRoute::Tunnel {
                proxy: format!("{host}:{}", uri.port_u16().unwrap_or(80)),
                authorization: intercept.basic_auth().cloned(),
            },
            (scheme, _) => SocketRoute::Unsupported {
                scheme: scheme.unwrap_or("unknown").to_owned(),
            },
        }
    }
}

impl fmt::Debug for SocketRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketRoute::Direct => f.write_str("Direct"),
            SocketRoute::Tunnel {
                proxy,
                authorization,
            } => f
                .debug_struct("Tunnel")
                .field("proxy", proxy)
                .field(
                    "authorization",
                    &authorization.as_ref().map(|_| "[redacted]"),
                )
                .finish(),
            SocketRoute::Unsupported { scheme } => f
                .debug_struct("Unsupported")
                .field("scheme", scheme)
                .finish(),
        }
    }
}
