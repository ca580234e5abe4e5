// A mutation declared as a query: the attribute to write instead.
#[convex::query("posts:create", spec = "specs/checked.json")]
pub async fn create_post(title: String) -> String;

fn main() {}
