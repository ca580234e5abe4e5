//! The examples' TypeScript functions (`examples/convex/`) served on this machine: Node.js runs them with the
//! official `convex-test`, through [`convex_fetch_testing::JsDeployment`], with no Convex account.
//!
//! The deployment starts with the data of `convex/init.ts` (three posts, two tasks, the users Ada and Grace)
//! and accepts the bearer token [`DEMO_USER_TOKEN`](crate::demo::DEMO_USER_TOKEN) as Ada (`user_1`).

use convex_fetch_testing::{JsDeployment, JsError};

/// The examples' `convex/` folder.
pub const CONVEX_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/convex");

/// Starts the examples' functions on free ports of 127.0.0.1, after running `init`. They serve until the
/// returned value is dropped. Fails when Node.js 20.6+ or the Node server's packages are missing, saying
/// what to install.
pub async fn start() -> Result<JsDeployment, JsError> {
    JsDeployment::builder(CONVEX_DIR)
        .run("init")
        .token(crate::demo::DEMO_USER_TOKEN, crate::demo::demo_identity())
        .start()
        .await
}
