// A user type named as the args struct a stub generates: the message points at the stub's name.
pub struct ListPostsQuery;

#[convex::query("posts:list")]
pub async fn list_posts(limit: u32) -> Vec<String>;

fn main() {}
