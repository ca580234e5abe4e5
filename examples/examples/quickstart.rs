//! The quick start: `cargo run -p examples --example quickstart`.
//!
//! Without `CONVEX_URL`, it runs the TypeScript functions of `examples/convex` on this machine (Node.js and
//! `convex-test`), or the Rust demo deployment when Node.js or its packages are missing; with it, it calls
//! your deployment.

use examples::{Backend, Failure, demo, quickstart};

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let backend = Backend::from_env_or_demo().await?;
    // Stubs called without `.on(&client)` use the default client.
    convex::set_default_client(backend.client())?;
    let url = backend.client().url().to_owned();
    if backend.is_typescript() {
        println!(
            "CONVEX_URL is not set: running the functions of examples/convex locally at {url}"
        );
    } else if let Some(reason) = backend.fallback() {
        println!("CONVEX_URL is not set, and the TypeScript functions cannot run here: {reason}");
        println!("Using the Rust demo deployment at {url}");
    } else {
        println!("Calling {url}");
    }
    let token = backend
        .setting("CONVEX_AUTH_TOKEN", demo::DEMO_USER_TOKEN)
        .ok();
    quickstart::run(&mut std::io::stdout(), token.as_deref()).await
}
