convex::api!("specs/posts.json");

fn main() {
    let _call = api::posts::list("ten");
}
