//! A route that calls Convex as the signed-in user.
//!
//! `GET /api/user/profile` reads the Better Auth session cookie, exchanges it for a Convex JWT at
//! `{CONVEX_SITE_URL}/api/auth/convex/token` (the cookie forwarded, the answer `{"token": "…"}`), and runs the
//! query `users:me` as that user. No cookie, or a session the token endpoint refuses, is answered 401; a
//! token endpoint that cannot be reached or fails is answered 502.

use crate::api;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use convex::axum::forward_session_to;
use convex::token::{BetterAuth, CachedTokens};

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

/// The route: `GET /api/user/profile`. [`forward_session_to`] exchanges the session for a JWT (cached until
/// shortly before it expires) and runs the handler as that user on `state.convex`'s deployment (the token
/// goes to no other); it answers 401 and 502 itself.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/user/profile", get(profile))
        .route_layer(forward_session_to(
            state.convex.clone(),
            CachedTokens::new(state.tokens),
        ))
        .with_state(state.convex)
}

async fn profile(
    State(convex): State<convex::Client>,
) -> Result<Json<api::Profile>, convex::Error> {
    Ok(Json(api::me().on(&convex).await?))
}
