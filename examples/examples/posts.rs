//! Routes calling a query, a mutation and an action: `cargo run -p examples --example posts`.
//!
//! ```sh
//! curl 'http://127.0.0.1:3000/api/posts?status=published'
//! curl -X POST http://127.0.0.1:3000/api/tasks/complete -H 'content-type: application/json' -d '{"taskId":"task_1"}'
//! curl -X POST http://127.0.0.1:3000/api/reports -H 'content-type: application/json' -d '{"month":6,"year":2025}'
//! ```

use examples::Backend;
use examples::posts::{AppState, router};

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
