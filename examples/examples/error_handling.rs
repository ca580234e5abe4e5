//! One `IntoResponse` for `convex::Error`: `cargo run -p examples --example error_handling`.
//!
//! ```sh
//! curl -X POST http://127.0.0.1:3000/api/tasks -H 'content-type: application/json' -d '{"text":"Ship it"}'
//! # A ConvexError comes back as 400 with its data:
//! curl -i -X POST http://127.0.0.1:3000/api/tasks -H 'content-type: application/json' -d '{"text":""}'
//! ```

use examples::Backend;
use examples::error_handling::{AppState, router};

#[tokio::main]
async fn main() -> Result<(), examples::Failure> {
    examples::init_tracing();
    let backend = Backend::from_env().await?;
    let state = AppState {
        convex: backend.client(),
    };
    examples::serve(router(state)).await?;
    Ok(())
}
