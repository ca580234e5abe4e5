// Two or more args are given by name: a positional call does not compile.
convex::api!("specs/shapes.json");

fn main() {
    let _call = api::values::send_message("123456", "u1", 7.0);
}
