//! A route that calls Convex as the signed-in user.
//!
//! `GET /api/user/profile` reads the Better Auth session cookie, exchanges it for a Convex JWT at
//! `{CONVEX_SITE_URL}/api/auth/convex/token` (the cookie forwarded, the answer `{"token": "…"}`), and runs the
//! query `users:me` with `.auth(jwt)`. No cookie, or a session the token endpoint refuses, is answered 401; a
//! token endpoint that cannot be reached or fails is answered 502.

use crate::api;
use crate::error_handling::{ApiError, reject};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use convex::token::{BetterAuth, TokenError, TokenSource};

/// The session cookie's name. Over HTTPS Better Auth adds the `__Secure-` prefix; both are read.
pub use convex::token::BETTER_AUTH_COOKIE as SESSION_COOKIE;

/// What the route needs.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The Convex deployment.
    pub convex: convex::Client,
    /// The token endpoint at `https://<name>.convex.site` (`CONVEX_SITE_URL`), e.g.
    /// `BetterAuth::new(&site_url)?.http_client(http)` with a client that has a timeout.
    pub tokens: BetterAuth,
}

/// The route: `GET /api/user/profile`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/user/profile", get(profile))
        .with_state(state)
}

async fn profile(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let Some(session) = state.tokens.session_of(&headers) else {
        return Ok(reject(StatusCode::UNAUTHORIZED, "Unauthorized"));
    };
    let jwt = match state.tokens.fetch(&session).await {
        Ok(token) => token,
        Err(TokenError::Refused { .. }) => {
            return Ok(reject(StatusCode::UNAUTHORIZED, "Invalid session"));
        }
        Err(err) => {
            tracing::error!(error = %err, "the token endpoint failed");
            return Ok(reject(StatusCode::BAD_GATEWAY, "Bad Gateway"));
        }
    };
    let profile = api::me().auth(jwt.expose()).on(&state.convex).await?;
    Ok(Json(profile).into_response())
}
