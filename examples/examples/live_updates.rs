//! A query's updates streamed to browsers as server-sent events: `cargo run -p examples --example live_updates`.
//!
//! With `CONVEX_URL` set, it subscribes to that deployment's `posts:list`; without it, to the Rust demo
//! deployment's (the TypeScript functions run locally by `convex-test` have no live connection).
//!
//! ```sh
//! curl -N http://127.0.0.1:3000/posts/live
//! ```

use examples::live_updates::router;

#[tokio::main]
async fn main() -> Result<(), examples::Failure> {
    examples::init_tracing();
    let demo;
    let client = match std::env::var(convex::CONVEX_URL_ENV) {
        Ok(url) if !url.trim().is_empty() => convex::Client::new(url)?,
        _ => {
            demo = examples::demo::start().await;
            tracing::info!(url = %demo.url(), "streaming the Rust demo deployment's posts");
            demo.client()
        }
    };
    examples::serve(router(client)).await?;
    Ok(())
}
