#[convex::query("posts:count")]
pub async fn count_posts() -> u64;

fn main() {
    let _call = convex::fetch_query("https://happy-otter-123.convex.cloud", count_posts, convex::FetchOptions::new());
}
