// The test deployments are in the crate `convex-fetch-testing`, not in the runtime.
use convex::testing::TestDeployment;

fn main() {
    let _ = TestDeployment::builder();
}
