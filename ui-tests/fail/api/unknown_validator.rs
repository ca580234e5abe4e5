convex::api!("specs/bad_validator.json");

fn main() {}
