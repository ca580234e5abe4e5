//! A secret-protected endpoint that runs an action: `cargo run -p examples --example cron_trigger`.
//!
//! Settings: `CRON_SECRET` (`demo-cron-secret` against the local deployment) and `CONVEX_URL`.
//!
//! ```sh
//! curl -X POST http://127.0.0.1:3000/api/cron/daily-digest -H 'x-cron-secret: demo-cron-secret'
//! ```

use convex::axum::SharedSecret;
use examples::Backend;
use examples::cron_trigger::router;

#[tokio::main]
async fn main() -> Result<(), examples::Failure> {
    examples::init_tracing();
    let backend = Backend::from_env().await?;
    let secret = SharedSecret::cron(backend.setting("CRON_SECRET", "demo-cron-secret")?);
    examples::serve(router(backend.client(), secret)).await?;
    Ok(())
}
