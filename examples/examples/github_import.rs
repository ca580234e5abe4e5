//! GitHub issues stored with one mutation: `cargo run -p examples --example github_import`.
//!
//! Settings: `CONVEX_URL`, `GITHUB_API_URL` (default https://api.github.com), `GITHUB_TOKEN` (optional).
//!
//! ```sh
//! curl -X POST http://127.0.0.1:3000/api/import/github -H 'content-type: application/json' \
//!   -d '{"repoUrl":"https://github.com/get-convex/convex-js"}'
//! ```

use examples::Backend;
use examples::github_import::{AppState, DEFAULT_API_URL, router};

#[tokio::main]
async fn main() -> Result<(), examples::Failure> {
    examples::init_tracing();
    let backend = Backend::from_env().await?;
    let state = AppState {
        convex: backend.client(),
        http: examples::http_client()?,
        api_url: std::env::var("GITHUB_API_URL").unwrap_or_else(|_| DEFAULT_API_URL.to_owned()),
        token: std::env::var("GITHUB_TOKEN")
            .ok()
            .filter(|token| !token.is_empty())
            .map(convex::Secret::new),
    };
    examples::serve(router(state)).await?;
    Ok(())
}
