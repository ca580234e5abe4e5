#[convex::query("posts:list")]
pub async fn list_posts() -> Vec<String>;

async fn watch() -> Result<(), convex::Error> {
    let mut posts = list_posts().subscribe();
    // `next` is a method of a stream trait, which is not in scope here.
    while let Some(posts) = posts.next().await {
        println!("{} posts", posts?.len());
    }
    Ok(())
}

fn main() {
    let _ = watch();
}
