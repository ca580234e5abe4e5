
#[convex::query("posts::list")]
pub async fn list() -> Vec<String>;

fn main() {}
