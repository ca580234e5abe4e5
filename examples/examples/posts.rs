//! Routes calling a query, a mutation and an action: `cargo run -p examples --example posts`.
//!
//! Without `CONVEX_URL`, the functions of `examples/convex` run locally; `000000000000000000000010003tasks` is
//! the first task they start with.
//!
//! ```sh
//! curl 'http://127.0.0.1:3000/api/posts?status=published'
//! curl -X POST http://127.0.0.1:3000/api/tasks/complete -H 'content-type: application/json' -d '{"taskId":"000000000000000000000010003tasks"}'
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
