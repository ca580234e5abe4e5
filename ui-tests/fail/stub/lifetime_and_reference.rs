
#[convex::query("posts:byTitle")]
pub async fn by_title<'a>(title: &'a str) -> Vec<String>;

fn main() {}
