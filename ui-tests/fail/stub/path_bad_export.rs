
#[convex::query("posts:list-all")]
pub async fn list() -> Vec<String>;

fn main() {}
