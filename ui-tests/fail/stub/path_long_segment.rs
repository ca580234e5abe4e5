
// 65 bytes in one directory name; Convex allows 64.
#[convex::query("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/posts:list")]
pub async fn list() -> Vec<String>;

fn main() {}
