use axum::{Router, routing::get};

async fn tasks() {}

fn main() {
    // `forward_auth` is a middleware function: it goes through `axum::middleware::from_fn`, not into `.layer`
    // as it is. The message is tower's; `pass/axum/wiring.rs` shows the right way.
    let _app: Router = Router::new().route("/tasks", get(tasks)).layer(convex::axum::forward_auth);
}
