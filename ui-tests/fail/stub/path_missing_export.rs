
#[convex::query("posts:")]
pub async fn list() -> Vec<String>;

fn main() {}
