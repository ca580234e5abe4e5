//! The benchmarks' fixed-body Convex stand-in as a process of its own, for load generators such as `wrk`.
//! Prints its address, then serves until killed.

use convex_fetch_bench::{serve_fixed, success_body};

#[tokio::main]
async fn main() {
    let addr = serve_fixed(success_body(20)).await;
    println!("http://{addr}");
    std::future::pending::<()>().await;
}
