//! Where the JWTs of the authenticated-route pattern come from: a [`TokenSource`] gets one for a session, and
//! [`CachedTokens`] keeps each session's token until shortly before it expires, with one refresh at a time per
//! session. [`BetterAuth`] is the source of apps signed in with Better Auth's Convex plugin.

use crate::secret::Secret;
use base64::Engine as _;
use http::HeaderMap;
use http::header::COOKIE;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A JWT and, read from its `exp` claim, when it expires.
#[derive(Debug, Clone)]
pub struct Token {
    jwt: Secret,
    expires_at: Option<SystemTime>,
}

impl Token {
    /// The token, with its expiry read from the JWT's `exp` claim (none if it has no readable one).
    pub fn new(jwt: impl Into<String>) -> Token {
        let jwt = jwt.into();
        let expires_at = expiry(&jwt);
        Token {
            jwt: Secret::new(jwt),
            expires_at,
        }
    }

    /// The JWT, for `.auth(…)` or [`with_auth`](crate::with_auth). Never log it.
    pub fn expose(&self) -> &str {
        self.jwt.expose()
    }

    /// When the token expires, if it says.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }
}

/// The `exp` claim of a JWT (seconds since the epoch), without checking its signature: the deployment does
/// that; the client only needs to know when to fetch a new one.
fn expiry(jwt: &str) -> Option<SystemTime> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_f64()?;
    // Checked: an `exp` past what a `Duration` or a `SystemTime` holds (1e19, 1e300) is unreadable, not a panic.
    let since_epoch = Duration::try_from_secs_f64(exp).ok()?;
    UNIX_EPOCH.checked_add(since_epoch)
}

/// Why no token could be had for a session.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The session is not (or no longer) signed in: the caller should sign in again (401).
    #[error("the session was refused: {reason}")]
    Refused {
        /// What the token endpoint said, without the session.
        reason: String,
    },
    /// The token endpoint could not be reached or failed: not the caller's fault (502).
    #[error("the token endpoint failed: {reason}")]
    Unavailable {
        /// What went wrong, without the session.
        reason: String,
    },
}

/// Gets a Convex JWT for a session (a cookie, a user id: whatever names who the token is for).
pub trait TokenSource: Send + Sync {
    /// The session a request's headers name, if any (for [`BetterAuth`], its session cookie).
    fn session_of(&self, headers: &HeaderMap) -> Option<String>;

    /// Fetches a fresh token for `session`.
    fn fetch(&self, session: &str) -> impl Future<Output = Result<Token, TokenError>> + Send;
}

/// How long before its expiry a cached token is replaced, so that it does not expire in flight.
pub const DEFAULT_REFRESH_BEFORE: Duration = Duration::from_secs(60);

/// How long a token without a readable `exp` claim is reused.
const NO_EXPIRY_TTL: Duration = Duration::from_secs(60);

/// The most sessions kept; past it, expired entries are dropped, then all if none had expired.
const MAX_SESSIONS: usize = 10_000;

/// A [`TokenSource`] with a cache: each session's token is reused until [`refresh_before`] its expiry, and
/// concurrent requests for one session wait for a single fetch. A refused session is not cached.
///
/// [`refresh_before`]: CachedTokens::refresh_before
pub struct CachedTokens<S> {
    source: S,
    refresh_before: Duration,
    sessions: Mutex<HashMap<Box<str>, Slot>>,
}

/// A session's token and until when it is used, behind the lock its fetches take turns on.
type Slot = Arc<tokio::sync::Mutex<Option<(Token, SystemTime)>>>;

impl<S> fmt::Debug for CachedTokens<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The sessions are credentials: only their number is shown.
        let sessions = self.sessions.lock().map_or(0, |s| s.len());
        f.debug_struct("CachedTokens")
            .field("refresh_before", &self.refresh_before)
            .field("sessions", &sessions)
            .finish()
    }
}

impl<S: TokenSource> CachedTokens<S> {
    /// Caches the tokens of `source`.
    pub fn new(source: S) -> CachedTokens<S> {
        CachedTokens {
            source,
            refresh_before: DEFAULT_REFRESH_BEFORE,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// How long before expiry a token is replaced. Default [`DEFAULT_REFRESH_BEFORE`].
    pub fn refresh_before(mut self, margin: Duration) -> Self {
        self.refresh_before = margin;
        self
    }

    /// A token for `session`: the cached one while it is fresh, else a new one from the source.
    pub async fn token(&self, session: &str) -> Result<Token, TokenError> {
        let slot = self.slot(session);
        // One fetch per session at a time: the others wait here, then find the fresh token.
        let mut cached = slot.lock().await;
        if let Some((token, _)) = cached
            .as_ref()
            .filter(|(_, until)| SystemTime::now() < *until)
        {
            return Ok(token.clone());
        }
        match self.source.fetch(session).await {
            Ok(token) => {
                let now = SystemTime::now();
                let until = match token.expires_at {
                    Some(at) => at.checked_sub(self.refresh_before).unwrap_or(now),
                    None => now.checked_add(NO_EXPIRY_TTL).unwrap_or(now),
                };
                *cached = Some((token.clone(), until));
                Ok(token)
            }
            Err(error) => {
                *cached = None;
                Err(error)
            }
        }
    }

    /// The session `headers` name, by the source's rule.
    pub fn session_of(&self, headers: &HeaderMap) -> Option<String> {
        self.source.session_of(headers)
    }

    /// Forgets the token of `session` (on sign-out, say).
    pub fn forget(&self, session: &str) {
        self.lock().remove(session);
    }

    fn slot(&self, session: &str) -> Slot {
        let mut sessions = self.lock();
        if let Some(slot) = sessions.get(session) {
            return slot.clone();
        }
        if sessions.len() >= MAX_SESSIONS {
            let now = SystemTime::now();
            sessions.retain(|_, slot| match slot.try_lock() {
                // In use: kept.
                Err(_) => true,
                Ok(cached) => cached.as_ref().is_some_and(|(_, until)| *until > now),
            });
            if sessions.len() >= MAX_SESSIONS {
                sessions.clear();
            }
        }
        sessions.entry(session.into()).or_default().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Slot>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The tokens of a live connection (the WebSocket of [`Call::subscribe`](crate::Call::subscribe)): a token is
/// fetched each time the socket opens, and again shortly before it expires (read from its `exp` claim), when
/// the open socket re-authenticates with it. A token refused by the deployment (or a session the source
/// refuses) reaches the affected subscriptions as
/// [`LiveProblem::AuthRefused`](crate::LiveProblem::AuthRefused); the next socket asks for a fresh token.
///
/// Give it to one subscription with [`Call::subscribe_with_tokens`](crate::Call::subscribe_with_tokens), or
/// to every live call of a client without a credential of its own with
/// [`LiveSettings::tokens`](crate::LiveSettings::tokens). Clones share one socket.
///
/// ```
/// use convex_fetch::token::{BetterAuth, CachedTokens, LiveTokens};
/// use std::sync::Arc;
///
/// let tokens = Arc::new(CachedTokens::new(BetterAuth::new("https://happy-otter-123.convex.site")?));
/// let live = LiveTokens::cached(tokens, "better-auth.session_token=abc");
/// # let _ = live;
/// # Ok::<(), convex_fetch::Error>(())
/// ```
#[derive(Clone)]
pub struct LiveTokens {
    /// Tells sources apart: subscriptions with the same source share a socket.
    id: u64,
    fetch: Arc<FetchFn>,
}

/// Fetches a token; `true` asks for a fresh one (the last was refused).
type FetchFn = dyn Fn(bool) -> std::pin::Pin<Box<dyn Future<Output = Result<Token, TokenError>> + Send>>
    + Send
    + Sync;

impl LiveTokens {
    /// Tokens from a function; its argument is `true` when the last token was refused and a fresh one (not
    /// a cached one) is wanted.
    pub fn from_fn<F, Fut>(fetch: F) -> LiveTokens
    where
        F: Fn(bool) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Token, TokenError>> + Send + 'static,
    {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        LiveTokens {
            id: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            fetch: Arc::new(move |force| Box::pin(fetch(force))),
        }
    }

    /// The tokens of `session` from a [`TokenSource`], fetched anew each time.
    pub fn source<S: TokenSource + 'static>(
        source: Arc<S>,
        session: impl Into<String>,
    ) -> LiveTokens {
        let session: Arc<str> = session.into().into();
        LiveTokens::from_fn(move |_| {
            let (source, session) = (source.clone(), session.clone());
            async move { source.fetch(&session).await }
        })
    }

    /// The tokens of `session` from a [`CachedTokens`], shared with the calls that use it; a refused token
    /// is forgotten before a fresh one is fetched.
    pub fn cached<S: TokenSource + 'static>(
        tokens: Arc<CachedTokens<S>>,
        session: impl Into<String>,
    ) -> LiveTokens {
        let session: Arc<str> = session.into().into();
        LiveTokens::from_fn(move |fresh| {
            let (tokens, session) = (tokens.clone(), session.clone());
            async move {
                if fresh {
                    tokens.forget(&session);
                }
                tokens.token(&session).await
            }
        })
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn fetch(
        &self,
        fresh: bool,
    ) -> impl Future<Output = Result<Token, TokenError>> + Send + 'static {
        (self.fetch)(fresh)
    }
}

impl fmt::Debug for LiveTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveTokens")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl PartialEq for LiveTokens {
    fn eq(&self, other: &LiveTokens) -> bool {
        self.id == other.id
    }
}

impl Eq for LiveTokens {}

/// The session cookie of Better Auth; over HTTPS it carries the `__Secure-` prefix, and both are read.
pub const BETTER_AUTH_COOKIE: &str = "better-auth.session_token";

/// The token source of an app signed in with Better Auth's Convex plugin: the request's session cookie is
/// forwarded to `GET {site}/api/auth/convex/token`, which answers `{"token": "<JWT>"}`. A 4xx (or an answer
/// without a token) means the session is refused; no answer, or a 5xx, that the endpoint is unavailable.
///
/// ```
/// use convex_fetch::token::{BetterAuth, CachedTokens};
///
/// let tokens = CachedTokens::new(BetterAuth::new("https://happy-otter-123.convex.site")?);
/// # let _ = tokens;
/// # Ok::<(), convex_fetch::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BetterAuth {
    http: reqwest::Client,
    token_url: String,
}

/// How long the token endpoint may take.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(10);

impl BetterAuth {
    /// The source whose token endpoint is served at `site_url`, the deployment's HTTP-actions URL
    /// (`https://<name>.convex.site`) or the app's own origin where it proxies Better Auth.
    pub fn new(site_url: &str) -> Result<BetterAuth, crate::Error> {
        let http = reqwest::Client::builder()
            .timeout(TOKEN_TIMEOUT)
            // A redirect could carry the session cookie to another origin.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                crate::Error::config(format!("the HTTP client could not be built: {e}"))
            })?;
        let site = site_url.trim().trim_end_matches('/');
        match reqwest::Url::parse(site) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(BetterAuth {
                http,
                token_url: format!("{site}/api/auth/convex/token"),
            }),
            _ => Err(crate::Error::config(format!(
                "`{}` is not a valid site URL; expected something like https://happy-otter-123.convex.site",
                crate::secret::redact_password(site)
            ))),
        }
    }

    /// Uses this reqwest client for the token endpoint (give it a timeout, and no redirects).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }
}

impl TokenSource for BetterAuth {
    /// The `Cookie` pair to forward, `better-auth.session_token=…` (or its `__Secure-` form).
    fn session_of(&self, headers: &HeaderMap) -> Option<String> {
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, value)| {
                !value.is_empty()
                    && (*name == BETTER_AUTH_COOKIE
                        || name.strip_prefix("__Secure-") == Some(BETTER_AUTH_COOKIE))
            })
            .map(|(name, value)| format!("{name}={value}"))
    }

    async fn fetch(&self, session: &str) -> Result<Token, TokenError> {
        #[derive(serde::Deserialize)]
        struct Answer {
            token: Option<String>,
        }
        let unavailable = |e: reqwest::Error| TokenError::Unavailable {
            // Without the URL: nothing of the session is in it, but the message stays short.
            reason: e.without_url().to_string(),
        };
        let mut response = self
            .http
            .get(&self.token_url)
            .header(COOKIE, session)
            .send()
            .await
            .map_err(unavailable)?;
        let status = response.status();
        if status.is_server_error() {
            return Err(TokenError::Unavailable {
                reason: format!("it answered {status}"),
            });
        }
        if !status.is_success() {
            return Err(TokenError::Refused {
                reason: format!("the token endpoint answered {status}"),
            });
        }
        // A token is a few KiB: an answer past the small limit is cut off, not read until memory runs out.
        let body = match crate::body::read(&mut response, crate::body::SMALL_BODY_BYTES)
            .await
            .map_err(unavailable)?
        {
            crate::body::Read::Whole(body) => body,
            crate::body::Read::Cut(_) => {
                return Err(TokenError::Unavailable {
                    reason: format!(
                        "its answer is larger than {} bytes",
                        crate::body::SMALL_BODY_BYTES
                    ),
                });
            }
        };
        match serde_json::from_slice::<Answer>(&body) {
            Ok(Answer { token: Some(token) }) if !token.is_empty() => Ok(Token::new(token)),
            _ => Err(TokenError::Refused {
                reason: "the token endpoint gave no token".to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &serde_json::Value) -> String {
        let part = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        format!(
            "{}.{}.sig",
            part(br#"{"alg":"none"}"#),
            part(claims.to_string().as_bytes())
        )
    }

    #[test]
    fn the_expiry_comes_from_the_exp_claim() {
        let token = Token::new(jwt(&serde_json::json!({ "exp": 2_000_000_000 })));
        assert_eq!(
            token.expires_at(),
            Some(UNIX_EPOCH + Duration::from_secs(2_000_000_000))
        );
        for unreadable in [
            "opaque",
            "a.b.c",
            &jwt(&serde_json::json!({ "exp": "soon" })),
        ] {
            assert_eq!(Token::new(unreadable).expires_at(), None, "{unreadable}");
        }
        assert!(!format!("{token:?}").contains("sig"));
    }

    /// Sessions fetched at once, many requests each: every request gets its own session's token, never
    /// another's, and each session is fetched once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_sessions_never_see_each_others_tokens() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        struct PerSession(Mutex<HashMap<String, usize>>, AtomicUsize);
        impl TokenSource for PerSession {
            fn session_of(&self, _headers: &HeaderMap) -> Option<String> {
                None
            }
            async fn fetch(&self, session: &str) -> Result<Token, TokenError> {
                *self
                    .0
                    .lock()
                    .unwrap()
                    .entry(session.to_owned())
                    .or_default() += 1;
                // Fetches of different sessions overlap, and finish in another order than they began.
                let n = self.1.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis((n % 7) as u64)).await;
                Ok(Token::new(jwt(&serde_json::json!({
                    "sub": session,
                    "exp": 4_000_000_000u64
                }))))
            }
        }
        let tokens = Arc::new(CachedTokens::new(PerSession(
            Mutex::default(),
            AtomicUsize::new(0),
        )));
        let tasks: Vec<_> = (0..400)
            .map(|i| {
                let tokens = tokens.clone();
                tokio::spawn(async move {
                    let session = format!("session-{}", i % 25);
                    let token = tokens.token(&session).await.unwrap();
                    (session, token)
                })
            })
            .collect();
        for task in tasks {
            let (session, token) = task.await.unwrap();
            let payload = token.expose().split('.').nth(1).unwrap();
            let claims: serde_json::Value = serde_json::from_slice(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(payload)
                    .unwrap(),
            )
            .unwrap();
            assert_eq!(claims["sub"], session.as_str());
        }
        let fetches = tokens.source.0.lock().unwrap().clone();
        assert_eq!(fetches.len(), 25);
        assert!(fetches.values().all(|&n| n == 1), "{fetches:?}");
    }

    #[test]
    fn the_session_cookie_is_found_in_either_form() {
        let source = BetterAuth::new("https://a.convex.site").unwrap();
        let session = |cookies: &[&str]| {
            let mut headers = HeaderMap::new();
            for cookie in cookies {
                headers.append(COOKIE, cookie.parse().unwrap());
            }
            source.session_of(&headers)
        };
        assert_eq!(
            session(&["theme=dark; better-auth.session_token=abc"]).as_deref(),
            Some("better-auth.session_token=abc")
        );
        assert_eq!(
            session(&["x=1", "__Secure-better-auth.session_token=def"]).as_deref(),
            Some("__Secure-better-auth.session_token=def")
        );
        assert_eq!(session(&["better-auth.session_token="]), None);
        assert_eq!(session(&[]), None);
    }
}
