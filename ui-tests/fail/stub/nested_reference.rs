#[convex::query("posts:search")]
pub async fn search(title: Option<&str>, tags: Vec<&str>, author: &'static str) -> Vec<String>;

fn main() {}
