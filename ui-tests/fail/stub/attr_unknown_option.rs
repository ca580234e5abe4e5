
#[convex::query("posts:list", retries = 3)]
pub async fn list() -> Vec<String>;

fn main() {}
