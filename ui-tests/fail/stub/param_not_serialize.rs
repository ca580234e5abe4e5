
pub struct Secret;

#[convex::mutation("vault:store")]
pub async fn store(name: String, secret: Secret);

fn main() {}
