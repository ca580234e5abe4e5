//! A binary of its own: it measures the process's peak resident set (`VmHWM` of `/proc/self/status`, Linux
//! only), which no other test's allocations may move.
//!
//! A 100 MB upload and its download keep memory flat: the file is streamed both ways, never held whole.

use convex::UploadBody;
use convex_fetch_testing::TestDeployment;
use std::time::Duration;
use tokio::io::AsyncReadExt;

const FILE_BYTES: u64 = 100 * 1024 * 1024;

/// The peak resident set size so far, in bytes.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_mb_upload_and_download_keep_memory_flat() {
    let Some(_) = peak_rss() else {
        eprintln!("no /proc/self/status: skipped");
        return;
    };
    let deployment = TestDeployment::builder()
        .upload_url_mutation("files:generateUploadUrl")
        .start()
        .await;
    let client = deployment.client();
    let upload = |body: UploadBody| {
        client
            .upload(
                client.mutation::<_, String>("files:generateUploadUrl", serde_json::json!({})),
                body,
                "application/octet-stream",
            )
            .timeout(Duration::from_secs(300))
    };
    // A small round first, so that connections, buffers and the runtime are already counted.
    upload(UploadBody::from(vec![1u8; 1024 * 1024]))
        .await
        .unwrap();
    let before = peak_rss().unwrap();

    let reader = tokio::io::repeat(0x5a).take(FILE_BYTES);
    let id = upload(UploadBody::reader(reader).with_length(FILE_BYTES))
        .await
        .unwrap();
    let after_upload = peak_rss().unwrap();

    let url = deployment.file_url(id.as_str()).unwrap();
    let mut file = client
        .download(&url)
        .timeout(Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(file.content_length(), Some(FILE_BYTES));
    let mut read = 0u64;
    while let Some(chunk) = std::future::poll_fn(|cx| {
        futures_util::Stream::poll_next(std::pin::Pin::new(&mut file), cx)
    })
    .await
    {
        let chunk = chunk.unwrap();
        assert!(chunk.iter().all(|&b| b == 0x5a));
        read += chunk.len() as u64;
    }
    assert_eq!(read, FILE_BYTES);
    let after_download = peak_rss().unwrap();

    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    eprintln!(
        "peak RSS: {:.1} MiB before, {:.1} MiB after a 100 MiB upload (+{:.1}), {:.1} MiB after its download (+{:.1})",
        mib(before),
        mib(after_upload),
        mib(after_upload - before),
        mib(after_download),
        mib(after_download - before),
    );
    // Far less than the file: a copy of it would add 100 MiB.
    assert!(
        after_upload - before < 20 * 1024 * 1024,
        "upload grew the peak by {:.1} MiB",
        mib(after_upload - before)
    );
    assert!(
        after_download - before < 20 * 1024 * 1024,
        "download grew the peak by {:.1} MiB",
        mib(after_download - before)
    );
}
