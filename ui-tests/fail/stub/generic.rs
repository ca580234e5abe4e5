
#[convex::query("posts:get")]
pub async fn get_post<T: serde::Serialize>(id: T) -> String;

fn main() {}
