//! A route forwarding to the HTTP action `GET /posts`: `cargo run -p examples --example http_actions`.
//!
//! With `CONVEX_URL` set, the action of that deployment is called on its site URL (`.convex.site`);
//! without it, a stand-in deployment in Rust serves it on this machine.
//!
//! ```sh
//! curl 'http://127.0.0.1:3000/api/site/posts?status=published'
//! ```

use examples::http_actions::{AppState, local_deployment, router};

#[tokio::main]
async fn main() -> Result<(), examples::Failure> {
    examples::init_tracing();
    let local;
    let convex = if std::env::var(convex::CONVEX_URL_ENV).is_ok_and(|url| !url.trim().is_empty()) {
        convex::Client::from_env()?
    } else {
        local = local_deployment().await;
        tracing::info!(site = %local.site_url(), "serving the HTTP action on this machine");
        local.client()
    };
    examples::serve(router(AppState { convex })).await?;
    Ok(())
}
