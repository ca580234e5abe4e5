
pub struct Report;

#[convex::action("reports:generate")]
pub async fn generate(month: u8) -> Report;

fn main() {}
