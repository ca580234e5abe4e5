#[convex::query("posts:list")]
#[convex(rename_all = "snake_case")]
pub async fn list_posts(max_items: u32) -> Vec<String>;

fn main() {}
