#[convex::query("posts::list")]
pub fn list(&self, (a, b): (u8, u8)) -> Vec<String>;

fn main() {}
