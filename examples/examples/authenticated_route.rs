//! A route calling Convex as the signed-in user: `cargo run -p examples --example authenticated_route`.
//!
//! Settings: `CONVEX_URL` and `CONVEX_SITE_URL` (where Better Auth serves `/api/auth/convex/token`). Against the
//! local deployment a stand-in token endpoint is started, which accepts the session `demo-session`:
//!
//! ```sh
//! curl http://127.0.0.1:3000/api/user/profile -H 'Cookie: better-auth.session_token=demo-session'
//! ```

use examples::authenticated_route::{AppState, router};
use examples::{Backend, MissingSetting};

#[tokio::main]
async fn main() -> Result<(), examples::Failure> {
    examples::init_tracing();
    let backend = Backend::from_env().await?;
    let site_url = match std::env::var("CONVEX_SITE_URL") {
        Ok(url) => url,
        Err(_) if backend.is_demo() => examples::demo::start_token_endpoint().await?,
        Err(_) => return Err(MissingSetting("CONVEX_SITE_URL".into()).into()),
    };
    let state = AppState {
        convex: backend.client(),
        tokens: convex::token::BetterAuth::new(&site_url)?.http_client(examples::http_client()?),
    };
    examples::serve(router(state)).await?;
    Ok(())
}
