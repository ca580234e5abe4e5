//! Middleware recording page views as fire-and-forget mutations:
//! `cargo run -p examples --example analytics_middleware`, then open http://127.0.0.1:3000/ and watch the log.

use examples::Backend;
use examples::analytics_middleware::{AppState, router};

#[tokio::main]
async fn main() -> Result<(), examples::Failure> {
    examples::init_tracing();
    let backend = Backend::from_env().await?;
    // At most 64 recordings in flight; beyond that, page views are dropped rather than queued.
    let state = AppState::new(backend.client(), 64);
    examples::serve(router(state)).await?;
    Ok(())
}
