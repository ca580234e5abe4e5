// trybuild builds each case in target/tests/trybuild/<crate>/, four levels below the workspace.
convex::api!("../../../../ui-tests/specs/bad_validator.json");

fn main() {}
