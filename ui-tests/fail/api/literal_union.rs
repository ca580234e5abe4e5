// A union of literals stays checked: a number that is not one of them does not compile.
convex::api!("specs/shapes.json");

fn main() {
    let _call = api::values::pick(4.0);
}
