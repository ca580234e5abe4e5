#[convex::mutation("posts:create")]
pub async fn create_post(title: String) -> String;

fn main() {
    // Only queries can be subscribed to: a mutation is awaited.
    let _updates = create_post("Hello".to_owned()).subscribe();
}
