// A stub with errors still declares its function and args struct, so that its uses add no errors of their own.

#[convex::query("posts::list")]
pub async fn list_posts(limit: u32, (offset, page): (u32, u32), title: &str) -> Result<Vec<String>, convex::Error>;

#[convex::query("posts:get")]
pub async fn get_post<T: serde::Serialize>(id: T) -> String;

#[convex::mutation(42, rename_all = "snake_case")]
pub async fn archive(post_id: String);

async fn use_them() -> Result<(), convex::Error> {
    let posts: Vec<String> = list_posts(10, (0, 1), "hello").await?;
    let _args = ListPostsQuery { limit: 1 };
    let _post = get_post(7);
    let _args = GetPostQuery {};
    archive("p1".to_owned()).await?;
    let _args = ArchiveMutation { post_id: String::new() };
    drop(posts);
    Ok(())
}

fn main() {
    drop(use_them());
}
