pub trait Posts {
    #[convex::query("posts:list")]
    async fn list_posts() -> Vec<String>;
}

fn main() {}
