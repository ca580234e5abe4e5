// The `axum` feature of convex-fetch is not enabled in this crate.
use convex::axum::forward_auth;

fn main() {
    let _ = forward_auth;
}
