
#[convex::mutation("tasks:move")]
pub async fn move_task(task_id: String, #[convex(rename = "taskId")] other: String);

fn main() {}
