
#[convex::query(":list")]
pub async fn list() -> Vec<String>;

fn main() {}
