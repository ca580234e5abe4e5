#[convex::query("files:count")]
pub async fn count_files() -> u64;

async fn store(client: convex::Client, url: String) -> Result<(), convex::Error> {
    // The URL itself, not a future resolving to it.
    let _id = client.upload(url, b"hello".to_vec(), "text/plain").await?;
    // A query returning a number, not the upload-URL mutation's call.
    let _id = client.upload(count_files().on(&client), b"hello".to_vec(), "text/plain").await?;
    Ok(())
}

fn main() {
    let _ = store;
}
