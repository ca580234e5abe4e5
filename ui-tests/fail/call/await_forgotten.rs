#[convex::query("posts:count")]
pub async fn count_posts() -> u64;

async fn handler() -> Result<u64, convex::Error> {
    let count = count_posts()?;
    Ok(count)
}

fn main() {
    let _ = handler();
}
