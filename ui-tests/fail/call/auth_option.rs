#[convex::query("posts:count")]
pub async fn count_posts() -> u64;

fn main() {
    let token: Option<String> = std::env::var("TOKEN").ok();
    let _call = count_posts().auth(token);
}
