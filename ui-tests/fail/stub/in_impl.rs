pub struct Posts;

impl Posts {
    #[convex::query("posts:list")]
    pub async fn list_posts() -> Vec<String>;
}

fn main() {}
