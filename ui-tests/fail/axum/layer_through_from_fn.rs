use axum::{Router, middleware, routing::get};

async fn tasks() {}

fn main() {
    // The wiring of earlier versions: the middleware is a layer now, given to `.layer` as it is.
    let _app: Router = Router::new()
        .route("/tasks", get(tasks))
        .layer(middleware::from_fn(convex::axum::forward_auth));
}
