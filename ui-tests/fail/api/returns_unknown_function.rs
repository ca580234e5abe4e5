// An output set for a function the spec does not have is an error at its path.
convex::api!("specs/shapes.json", returns { "stats:nope" => u8 });

fn main() {}
