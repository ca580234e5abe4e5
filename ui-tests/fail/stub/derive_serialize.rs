#[convex::mutation("tasks:create", derive(Debug, Serialize))]
pub async fn create_task(title: String);

fn main() {}
