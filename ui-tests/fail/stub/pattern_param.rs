
#[convex::query("posts:page")]
pub async fn page((offset, limit): (u32, u32)) -> Vec<String>;

fn main() {}
