use axum::http::HeaderMap;
use convex::axum::{BearerToken, SharedSecret};

fn main() {
    // The caller's token is not the route's secret.
    let token = BearerToken::from_headers(&HeaderMap::new()).unwrap();
    let _guard = SharedSecret::cron(token);
}
