use serde::{Deserialize, Serialize};

#[derive(Serialize)]
pub struct Draft { pub title: String }

#[derive(Deserialize)]
pub struct Post { pub title: String }

#[convex::query("posts:list")]
pub async fn list_posts(status: Option<String>) -> Vec<Post>;

#[convex::mutation("posts:create")]
pub async fn create_post(draft: Draft) -> String;

#[convex::action("posts:publish")]
pub async fn publish(id: String);

fn main() {
    let _call = convex::fetch_action("https://happy-otter-123.convex.cloud", CreatePostMutation { draft: Draft { title: "x".into() } }, convex::FetchOptions::new());
}
