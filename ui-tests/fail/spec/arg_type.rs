// Known types that do not match the validator: at the type, with the validator and what to use.
#[convex::query("posts:list", spec = "specs/checked.json")]
pub async fn list_posts(limit: String) -> Vec<convex::value::Value>;

#[convex::mutation("posts:create", spec = "specs/checked.json")]
pub async fn create_post(
    title: String,
    tags: Vec<bool>,
    views: i64,
    subtitle: convex::value::Value,
) -> String;

fn main() {}
