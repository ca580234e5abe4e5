
#[convex::mutation("tasks:move")]
pub async fn move_task(#[serde(rename = "id")] task_id: String, #[convex(skip)] to: String);

fn main() {}
