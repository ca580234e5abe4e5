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
    pub(crate) tokens: Option<LiveTokens>,
    pub(crate) max_message_bytes: usize,
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(16),
            // The server pings every 5 s and sends a JSON `Ping` after 15 s of silence.
            silence_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            tokens: None,
            // tungstenite's default, as the backend's.
            max_message_bytes: 64 << 20,
        }
    }
}

impl LiveSettings {
    /// The wait before the first reconnect after a connection is lost; it doubles with each failed attempt,
    /// up to [`max_backoff`](Self::max_backoff), and each wait is moved by up to half of itself at random so
    /// that many clients do not reconnect at once. Default 1 s.
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The longest wait between reconnects (before jitter). Default 16 s.
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
