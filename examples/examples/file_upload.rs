//! Uploads streamed to Convex file storage: `cargo run -p examples --example file_upload`.
//!
//! With `CONVEX_URL` set, files go to that deployment, which needs the mutation `files:generateUploadUrl`
//! (returning `ctx.storage.generateUploadUrl()`) and the query `files:getUrl` (`ctx.storage.getUrl`);
//! without it, a stand-in deployment in Rust stores them on this machine.
//!
//! ```sh
//! curl -X POST http://127.0.0.1:3000/api/files -H 'content-type: image/png' --data-binary @cat.png
//! curl http://127.0.0.1:3000/api/files/<storageId> -o copy.png
//! ```

use examples::file_upload::{AppState, client, local_deployment, router};

#[tokio::main]
async fn main() -> Result<(), examples::Failure> {
    examples::init_tracing();
    let local;
    let url = match std::env::var(convex::CONVEX_URL_ENV) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => {
            local = local_deployment().await;
            tracing::info!(url = %local.url(), "storing files on this machine");
            local.url().to_owned()
        }
    };
    examples::serve(router(AppState {
        convex: client(&url)?,
    }))
    .await?;
    Ok(())
}
