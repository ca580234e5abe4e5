#[convex::query("posts:list")]
pub async fn list_posts(status: Option<String>) -> Vec<String>;

fn main() {
    let _call = convex::fetch_query("https://happy-otter-123.convex.cloud", list_posts(None), convex::FetchOptions::new());
}
