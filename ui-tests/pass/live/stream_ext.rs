//! A subscription's stream methods come from `convex::StreamExt`, the path rustc suggests when `.next()` is
//! called without a stream trait in scope.

use convex::StreamExt;

#[convex::query("posts:list")]
pub async fn list_posts() -> Vec<String>;

#[allow(dead_code)]
async fn watch() -> Result<usize, convex::Error> {
    let mut posts = list_posts().subscribe();
    let mut seen = 0;
    while let Some(posts) = posts.next().await {
        seen += posts?.len();
    }
    Ok(seen)
}

fn main() {
    // Not polled: what is checked is that `next` resolves through the re-exported trait.
    let _ = watch;
}
