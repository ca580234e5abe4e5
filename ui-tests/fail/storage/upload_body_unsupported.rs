#[convex::mutation("files:generateUploadUrl")]
pub async fn generate_upload_url() -> String;

async fn store(client: convex::Client, lines: Vec<String>) -> Result<(), convex::Error> {
    // Lines of text are not a body: join them into a `String` first.
    let _id = client.upload(generate_upload_url().on(&client), lines, "text/plain").await?;
    Ok(())
}

fn main() {
    let _ = store;
}
