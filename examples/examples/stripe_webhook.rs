//! A verified Stripe webhook: `cargo run -p examples --example stripe_webhook`.
//!
//! Settings: `STRIPE_WEBHOOK_SECRET` (the endpoint's `whsec_…`), and `CONVEX_URL`. Against the local deployment
//! the secret defaults to `whsec_demo`, and the binary prints a signed request to try. With the Stripe CLI:
//! `stripe listen --forward-to 127.0.0.1:3000/api/webhooks/stripe`.

use examples::Backend;
use examples::stripe_webhook::{AppState, router, sign};

#[tokio::main]
async fn main() -> Result<(), examples::Failure> {
    examples::init_tracing();
    let backend = Backend::from_env().await?;
    let state = AppState {
        convex: backend.client(),
        webhook_secret: convex::Secret::new(
            backend.setting("STRIPE_WEBHOOK_SECRET", "whsec_demo")?,
        ),
    };
    if backend.is_demo() {
        let payload = r#"{"type":"checkout.session.completed","data":{"object":{"subscription":"sub_1","metadata":{"userId":"user_1"}}}}"#;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs();
        let signature = sign(state.webhook_secret.expose(), now, payload.as_bytes());
        println!(
            "Try, within 5 minutes:\ncurl -X POST http://{}/api/webhooks/stripe -H 'Stripe-Signature: {signature}' -d '{payload}'",
            examples::ADDRESS
        );
    }
    examples::serve(router(state)).await?;
    Ok(())
}
