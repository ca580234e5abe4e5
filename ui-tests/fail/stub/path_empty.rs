
#[convex::query("")]
pub async fn list() -> Vec<String>;

fn main() {}
