#[convex::query("posts:list", internal)]
pub async fn list_posts() -> Vec<String>;

fn main() {}
