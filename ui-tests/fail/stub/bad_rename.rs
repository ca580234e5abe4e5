
#[convex::mutation("tasks:move")]
pub async fn move_task(#[convex(rename = "$id")] task_id: String);

fn main() {}
