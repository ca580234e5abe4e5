
#[convex::query("posts:list")]
pub async fn list() -> Result<Vec<String>, convex::Error>;

fn main() {}
