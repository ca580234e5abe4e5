//! The quick start: `cargo run -p examples --example quickstart`.
//!
//! Without `CONVEX_URL`, it starts the demo deployment in-process; with it, it calls your deployment.

use examples::{Backend, Failure, demo, quickstart};

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let backend = Backend::from_env().await?;
    // Stubs called without `.on(&client)` use the default client.
    convex::set_default_client(backend.client())?;
    if backend.is_demo() {
        println!(
            "CONVEX_URL is not set: using the demo deployment at {}",
            backend.client().url()
        );
    } else {
        println!("Calling {}", backend.client().url());
    }
    let token = backend
        .setting("CONVEX_AUTH_TOKEN", demo::DEMO_USER_TOKEN)
        .ok();
    quickstart::run(&mut std::io::stdout(), token.as_deref()).await
}
