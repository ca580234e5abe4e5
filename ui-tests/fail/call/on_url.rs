#[convex::query("posts:count")]
pub async fn count_posts() -> u64;

fn main() {
    let _call = count_posts().on("https://happy-otter-123.convex.cloud");
}
