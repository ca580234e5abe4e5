
#[convex::query("posts:count")]
pub async fn count_posts() -> u64 {
    0
}

fn main() {}
