use axum::{Router, routing::get};

async fn tasks() {}

fn main() {
    // `forward_auth` builds the layer: `.layer(forward_auth())`.
    let _app: Router = Router::new().route("/tasks", get(tasks)).layer(convex::axum::forward_auth);
}
