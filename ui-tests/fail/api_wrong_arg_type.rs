// trybuild builds each case in target/tests/trybuild/<crate>/, four levels below the workspace.
convex::api!("../../../../ui-tests/specs/posts.json");

fn main() {
    let _call = api::posts::list("ten");
}
