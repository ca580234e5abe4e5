//! A route that calls Convex as the signed-in user.
//!
//! `GET /api/user/profile` reads the Better Auth session cookie, exchanges it for a Convex JWT at
//! `{CONVEX_SITE_URL}/api/auth/convex/token` (the cookie forwarded, the answer `{"token": "…"}`), and runs the
//! query `users:me` with `.auth(jwt)`. No cookie, or a session the token endpoint refuses, is answered 401; a
//! token endpoint that cannot be reached or fails is answered 502.

use crate::api;
use crate::error_handling::{ApiError, reject};
use axum::extract::State;
use axum::http::header::COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

/// The session cookie's name. Over HTTPS Better Auth adds the `__Secure-` prefix; both are read.
pub const SESSION_COOKIE: &str = "better-auth.session_token";

/// What the route needs.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The Convex deployment.
    pub convex: convex::Client,
    /// The client for the token endpoint; give it a timeout.
    pub http: reqwest::Client,
    /// Where the HTTP actions are served, `https://<name>.convex.site` (`CONVEX_SITE_URL`).
    pub site_url: String,
}

/// The route: `GET /api/user/profile`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/user/profile", get(profile))
        .with_state(state)
}

async fn profile(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let Some((name, session)) = session_cookie(&headers) else {
        return Ok(reject(StatusCode::UNAUTHORIZED, "Unauthorized"));
    };
    let jwt = match exchange(&state, name, session).await {
        Ok(Some(jwt)) => jwt,
        Ok(None) => return Ok(reject(StatusCode::UNAUTHORIZED, "Invalid session")),
        Err(err) => {
            tracing::error!(error = %err, "the token endpoint failed");
            return Ok(reject(StatusCode::BAD_GATEWAY, "Bad Gateway"));
        }
    };
    let profile = api::me().auth(jwt).on(&state.convex).await?;
    Ok(Json(profile).into_response())
}

/// The session cookie's name and value, from the request's `Cookie` headers.
fn session_cookie(headers: &HeaderMap) -> Option<(&str, &str)> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| {
            !value.is_empty()
                && (*name == SESSION_COOKIE
                    || name.strip_prefix("__Secure-") == Some(SESSION_COOKIE))
        })
}

#[derive(Deserialize)]
struct TokenResponse {
    token: Option<String>,
}

/// Exchanges the session for a JWT: `Ok(None)` when the session is refused, `Err` when the endpoint cannot be
/// reached or fails.
async fn exchange(
    state: &AppState,
    name: &str,
    session: &str,
) -> Result<Option<String>, reqwest::Error> {
    let url = format!(
        "{}/api/auth/convex/token",
        state.site_url.trim_end_matches('/')
    );
    let response = state
        .http
        .get(url)
        .header(COOKIE, format!("{name}={session}"))
        .send()
        .await?;
    if response.status().is_client_error() {
        return Ok(None);
    }
    // A 5xx is the endpoint failing, not the session being refused.
    let response = response.error_for_status()?;
    // An answer that is not the expected JSON is a refusal too.
    let token = response
        .json::<TokenResponse>()
        .await
        .ok()
        .and_then(|body| body.token);
    Ok(token.filter(|token| !token.is_empty()))
}
