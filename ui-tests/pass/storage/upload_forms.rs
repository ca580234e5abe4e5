//! The first argument of `Client::upload` and the bodies it takes.

use convex::{Error, UploadBody};
use serde_json::json;

#[convex::mutation("files:generateUploadUrl")]
pub async fn generate_upload_url() -> String;

#[allow(dead_code)]
async fn uploads(client: convex::Client, url: String) -> Result<(), Error> {
    // The upload-URL mutation's call, a stub or an untyped call typed with `.returning::<String>()`.
    client.upload(generate_upload_url().on(&client), b"a".to_vec(), "text/plain").await?;
    let untyped = client.mutation("files:generateUploadUrl", json!({})).returning::<String>();
    client.upload(untyped, "text".to_owned(), "text/plain").await?;
    // A URL in hand, as a ready future.
    client.upload(async { Ok(url) }, &b"static"[..], "text/plain").await?;
    // Bytes, and streams.
    client.upload(generate_upload_url().on(&client), bytes(), "text/plain").await?;
    let file = tokio::io::empty();
    client.upload(generate_upload_url().on(&client), UploadBody::reader(file), "text/plain").await?;
    Ok(())
}

fn bytes() -> UploadBody {
    UploadBody::from(vec![1, 2, 3])
}

fn main() {
    assert_eq!(bytes().length(), Some(3));
}
