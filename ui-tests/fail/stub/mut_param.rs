
#[convex::query("posts:page")]
pub async fn page(mut limit: u32) -> Vec<String>;

fn main() {}
