// An `Option` parameter for a required arg: `None` would be left out, which the function refuses.
#[convex::query("posts:list", spec = "specs/checked.json")]
pub async fn list_posts(limit: Option<f64>) -> Vec<convex::value::Value>;

#[convex::mutation("posts:create", spec = "specs/checked.json")]
pub async fn create_post(
    title: String,
    tags: Vec<String>,
    views: convex::value::Int64,
    subtitle: Option<String>,
) -> String;

fn main() {}
