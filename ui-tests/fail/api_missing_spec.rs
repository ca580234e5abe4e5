convex::api!("specs/no_such_spec.json");

fn main() {}
