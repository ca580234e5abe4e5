// A result type that does not match the returns validator, at the result type; a unit result for a value.
#[convex::query("posts:count", spec = "specs/checked.json")]
pub async fn count_posts() -> String;

#[convex::query("posts:titles", spec = "specs/checked.json")]
pub async fn titles() -> Vec<f64>;

#[convex::query("posts:count", spec = "specs/checked.json")]
pub async fn count_nothing();

fn main() {}
