
#[convex::query("pöstś:list")]
pub async fn list() -> Vec<String>;

fn main() {}
