//! The axum wiring as the docs write it: the middleware functions through `middleware::from_fn` (or
//! `from_fn_with_state` for the ones that take a client), a `SharedSecret` from the route's configured value,
//! and the caller's `BearerToken` as a call's credential.

use axum::{Json, Router, middleware, routing::get, routing::post};
use convex::axum::{BearerToken, SharedSecret, forward_auth, forward_auth_to, use_client};

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

fn app(client: convex::Client, cron_secret: String) -> Router {
    Router::new()
        .route("/whoami", get(whoami))
        .route("/forwarded", get(forwarded))
        .layer(middleware::from_fn(forward_auth))
        .merge(
            Router::new()
                .route("/cron", post(cron))
                .route_layer(middleware::from_fn_with_state(
                    SharedSecret::cron(cron_secret),
                    SharedSecret::require,
                )),
        )
        .layer(middleware::from_fn_with_state(client.clone(), forward_auth_to))
        .layer(middleware::from_fn_with_state(client, use_client))
}

fn main() {
    let client = convex::Client::new("https://happy-otter-123.convex.cloud").unwrap();
    let _app = app(client, "s3cret".to_owned());
    assert!(SharedSecret::cron("s3cret").verify(&{
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("x-cron-secret", "s3cret".parse().unwrap());
        headers
    }));
}
