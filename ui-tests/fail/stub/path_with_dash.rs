
#[convex::query("my-posts:list")]
pub async fn list() -> Vec<String>;

fn main() {}
