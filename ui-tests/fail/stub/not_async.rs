
#[convex::query("posts:count")]
pub fn count_posts() -> u64;

fn main() {}
