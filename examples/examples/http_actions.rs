//! A route forwarding to the HTTP action `GET /posts`: `cargo run -p examples --example http_actions`.
//!
//! With `CONVEX_URL` set, the action of that deployment is called on its site URL (`.convex.site`);
//! without it, the `http.ts` of `examples/convex` runs on this machine.
//!
//! ```sh
//! curl 'http://127.0.0.1:3000/api/site/posts?status=published'
//! ```

use examples::Backend;
use examples::http_actions::{AppState, router};

#[tokio::main]
async fn main() -> Result<(), examples::Failure> {
    examples::init_tracing();
    let backend = Backend::from_env().await?;
    examples::serve(router(AppState {
        convex: backend.client(),
    }))
    .await?;
    Ok(())
}
