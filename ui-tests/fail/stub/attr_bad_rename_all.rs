
#[convex::query("posts:list", rename_all = "kebab-case")]
pub async fn list(max_items: u32) -> Vec<String>;

fn main() {}
