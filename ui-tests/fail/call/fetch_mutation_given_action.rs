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
    let _call = convex::fetch_mutation("https://happy-otter-123.convex.cloud", PublishAction { id: "k1".into() }, convex::FetchOptions::new());
}
