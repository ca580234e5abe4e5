//! The axum wiring as the docs write it: each middleware's layer given to `.layer` or `.route_layer` as it is,
//! a `SharedSecret` from the route's configured value as the route's guard, and the caller's `BearerToken` as
//! a call's credential.

use std::sync::Arc;

use axum::{Json, Router, routing::get, routing::post};
use convex::axum::{
    BearerToken, SharedSecret, forward_auth, forward_auth_to, forward_session, forward_session_to,
    invalid_arguments_are_ours, use_client,
};
use convex::token::{BetterAuth, CachedTokens};

#[convex::query("users:me")]
pub async fn me() -> Option<String>;

async fn whoami(token: BearerToken) -> Result<Json<Option<String>>, convex::Error> {
    // The extracted token is a credential as it is.
    Ok(Json(me().auth(token).await?))
}

async fn forwarded() -> Result<Json<Option<String>>, convex::Error> {
    // Runs as the caller: `forward_auth` put the request's token in scope.
    Ok(Json(me().await?))
}

async fn cron() {}

fn app(client: convex::Client, cron_secret: String, tokens: Arc<CachedTokens<BetterAuth>>) -> Router {
    Router::new()
        .route("/whoami", get(whoami))
        .route("/forwarded", get(forwarded))
        .layer(forward_auth())
        .merge(
            Router::new()
                .route("/cron", post(cron))
                .route_layer(SharedSecret::cron(cron_secret)),
        )
        .merge(
            Router::new()
                .route("/session", get(forwarded))
                .route_layer(forward_session(tokens.clone()))
                .route_layer(forward_session_to(client.clone(), tokens)),
        )
        .layer(forward_auth_to(client.clone()))
        .layer(invalid_arguments_are_ours())
        .layer(use_client(client))
}

fn main() {
    let client = convex::Client::new("https://happy-otter-123.convex.cloud").unwrap();
    let tokens = Arc::new(CachedTokens::new(
        BetterAuth::new("https://happy-otter-123.convex.site").unwrap(),
    ));
    let _app = app(client, "s3cret".to_owned(), tokens);
    assert!(SharedSecret::cron("s3cret").verify(&{
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("x-cron-secret", "s3cret".parse().unwrap());
        headers
    }));
}
