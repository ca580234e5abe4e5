
#[convex::query("posts.ts:list")]
pub async fn list() -> Vec<String>;

fn main() {}
