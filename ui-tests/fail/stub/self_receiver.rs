
pub struct Api;

impl Api {
    #[convex::query("posts:count")]
    pub async fn count_posts(&self) -> u64;
}

fn main() {}
