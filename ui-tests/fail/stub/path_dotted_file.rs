
#[convex::query("posts.v2:list")]
pub async fn list() -> Vec<String>;

fn main() {}
