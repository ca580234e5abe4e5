//! File storage over real sockets: uploads of bytes, streams and readers for a storage id, downloads streamed
//! back, and the bad input: URLs of another origin, refused uploads, files over the limit, lost answers.

use convex::value::Id;
use convex::{Client, Error, ErrorKind, HttpCall, StatusCode, Storage, UploadBody};
use convex_fetch_testing::{Fault, TestDeployment};
use serde_json::json;
use std::time::Duration;

async fn start() -> TestDeployment {
    TestDeployment::builder()
        .upload_url_mutation("files:generateUploadUrl")
        .file_url_query("files:getUrl")
        .start()
        .await
}

fn upload_url(client: &Client) -> convex::Call<impl convex::Mutation<Output = String> + use<>> {
    client
        .mutation("files:generateUploadUrl", json!({}))
        .returning::<String>()
}

async fn file_url(client: &Client, id: &Id<Storage>) -> Option<String> {
    client
        .query("files:getUrl", json!({ "storageId": id.as_str() }))
        .await
        .unwrap()
}

/// What failed in a plain HTTP request.
fn problem(err: &Error) -> &ErrorKind {
    assert!(err.request().is_some(), "not an HTTP error: {err:?}");
    err.kind()
}

/// A stream of `chunks` chunks of `size` bytes of `byte`.
fn chunks(
    byte: u8,
    size: usize,
    chunks: usize,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static {
    Chunks {
        chunk: bytes::Bytes::from(vec![byte; size]),
        left: chunks,
    }
}

struct Chunks {
    chunk: bytes::Bytes,
    left: usize,
}

impl futures_util::Stream for Chunks {
    type Item = Result<bytes::Bytes, std::io::Error>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        if self.left == 0 {
            return std::task::Poll::Ready(None);
        }
        self.left -= 1;
        std::task::Poll::Ready(Some(Ok(self.chunk.clone())))
    }
}

#[tokio::test]
async fn bytes_are_uploaded_for_a_storage_id_and_downloaded_back() {
    let deployment = start().await;
    let client = deployment.client();
    let id = client
        .upload(
            upload_url(&client),
            b"hello, storage".to_vec(),
            "text/plain",
        )
        .await
        .unwrap();
    assert_eq!(id.as_str().len(), 32, "{id}");
    assert_eq!(
        deployment.stored_file(id.as_str()).unwrap(),
        b"hello, storage"
    );
    assert_eq!(
        deployment.stored_content_type(id.as_str()).as_deref(),
        Some("text/plain")
    );

    let url = file_url(&client, &id).await.unwrap();
    assert!(
        url.starts_with(&format!("{}/api/storage/", deployment.url())),
        "{url}"
    );
    let file = client.download(&url).await.unwrap();
    assert_eq!(file.content_type(), Some("text/plain"));
    assert_eq!(file.content_length(), Some(14));
    assert_eq!(&file.bytes().await.unwrap()[..], b"hello, storage");
    // The mutation, then the query: the upload itself is no function call.
    let paths: Vec<String> = deployment.calls().into_iter().map(|c| c.path).collect();
    assert_eq!(paths, ["files:generateUploadUrl", "files:getUrl"]);
}

#[tokio::test]
async fn streams_and_readers_are_sent_as_they_are_read() {
    let deployment = start().await;
    let client = deployment.client();
    // No length: chunked.
    let id = client
        .upload(
            upload_url(&client),
            UploadBody::stream(chunks(b'a', 1000, 50)),
            "application/octet-stream",
        )
        .await
        .unwrap();
    assert_eq!(
        deployment.stored_file(id.as_str()).unwrap(),
        vec![b'a'; 50_000]
    );
    // A reader with its length declared.
    let reader = std::io::Cursor::new(vec![b'r'; 200_000]);
    let id = client
        .upload(
            upload_url(&client),
            UploadBody::reader(reader).with_length(200_000),
            "image/png",
        )
        .await
        .unwrap();
    assert_eq!(
        deployment.stored_file(id.as_str()).unwrap(),
        vec![b'r'; 200_000]
    );
    // A stream shorter or longer than declared fails, and nothing is stored.
    for declared in [49_999, 50_001] {
        let err = client
            .upload(
                upload_url(&client),
                UploadBody::stream(chunks(b'a', 1000, 50)).with_length(declared),
                "text/plain",
            )
            .await
            .unwrap_err();
        assert!(
            matches!(problem(&err), ErrorKind::Transport { sent: true, .. }),
            "{err}"
        );
    }
    assert_eq!(deployment.stored_files(), 2);
}

#[tokio::test]
async fn urls_of_another_origin_are_refused_before_anything_is_sent() {
    let deployment = start().await;
    let other = start().await;
    let client = deployment.client();
    let foreign = other.upload_url();
    let err = client
        .upload(async { Ok(foreign) }, b"x".to_vec(), "text/plain")
        .await
        .unwrap_err();
    let ErrorKind::ForeignOrigin {
        origin, expected, ..
    } = problem(&err)
    else {
        panic!("{err}")
    };
    assert_eq!(origin, other.url());
    assert_eq!(expected, deployment.url());
    assert!(err.provably_not_run());
    // The token in the URL's query is never quoted.
    assert!(!format!("{err} {err:?}").contains("token="), "{err}");
    assert_eq!((deployment.stored_files(), other.stored_files()), (0, 0));

    for url in [
        format!(
            "{}/api/storage/upload?token=x",
            deployment.url().replace("127.0.0.1", "localhost")
        ),
        "https://evil.example.com/api/storage/upload?token=x".to_owned(),
    ] {
        let err = client
            .upload(async { Ok(url) }, b"x".to_vec(), "text/plain")
            .await
            .unwrap_err();
        assert!(
            matches!(problem(&err), ErrorKind::ForeignOrigin { .. }),
            "{err}"
        );
    }
    let err = client
        .upload(
            async { Ok("not a url".to_owned()) },
            b"x".to_vec(),
            "text/plain",
        )
        .await
        .unwrap_err();
    assert!(matches!(problem(&err), ErrorKind::Invalid { .. }), "{err}");

    let id = other
        .client()
        .upload(
            upload_url(&other.client()),
            b"theirs".to_vec(),
            "text/plain",
        )
        .await
        .unwrap();
    let their_url = other.file_url(id.as_str()).unwrap();
    let err = client.download(&their_url).await.unwrap_err();
    assert!(
        err.request() == Some(&HttpCall::Download)
            && matches!(err.kind(), ErrorKind::ForeignOrigin { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn a_refused_upload_is_a_typed_error_and_is_not_retried() {
    let deployment = start().await;
    let client = deployment.client();
    let url = deployment.upload_url();
    deployment.fail_next(1, Fault::system(503, "Overloaded", "busy"));
    let err = client
        .upload(async { Ok(url) }, b"x".to_vec(), "text/plain")
        .await
        .unwrap_err();
    assert!(
        matches!(problem(&err), ErrorKind::Status { status, body, .. } if *status == StatusCode::SERVICE_UNAVAILABLE && body.contains("Overloaded")),
        "{err}"
    );
    assert_eq!(err.request(), Some(&HttpCall::Upload));
    assert_eq!(deployment.pending_faults(), 0);

    // A token the deployment never gave.
    let forged = format!("{}/api/storage/upload?token=forged", deployment.url());
    let err = client
        .upload(async { Ok(forged) }, b"x".to_vec(), "text/plain")
        .await
        .unwrap_err();
    assert!(
        matches!(problem(&err), ErrorKind::Status { status, .. } if *status == StatusCode::UNAUTHORIZED),
        "{err}"
    );
    // The upload URL's own call failing is that call's error.
    let err = client
        .upload(
            client.mutation::<_, String>("files:missing", json!({})),
            b"x".to_vec(),
            "text/plain",
        )
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Function { .. }), "{err}");
    // A content type HTTP cannot carry.
    let err = client
        .upload(
            upload_url(&client),
            b"x".to_vec(),
            "text/plain\r\nx-injected: 1",
        )
        .await
        .unwrap_err();
    assert!(matches!(problem(&err), ErrorKind::Invalid { .. }), "{err}");
    assert_eq!(deployment.stored_files(), 0);
}

#[tokio::test]
async fn an_upload_whose_answer_is_lost_is_stored_once() {
    let deployment = start().await;
    let client = deployment.client();
    let url = deployment.upload_url();
    deployment.fail_next(1, Fault::DropAfterRun);
    let err = client
        .upload(async { Ok(url) }, b"once".to_vec(), "text/plain")
        .await
        .unwrap_err();
    assert!(
        matches!(problem(&err), ErrorKind::Transport { sent: true, .. }),
        "{err}"
    );
    assert!(!err.provably_not_run());
    assert_eq!(deployment.stored_files(), 1, "stored, and not sent again");

    // Dropped before it was stored: still not repeated, as it may have been.
    let url = deployment.upload_url();
    deployment.fail_next(1, Fault::DropConnection);
    let err = client
        .upload(async { Ok(url) }, b"twice?".to_vec(), "text/plain")
        .await
        .unwrap_err();
    assert!(
        matches!(problem(&err), ErrorKind::Transport { sent: true, .. }),
        "{err}"
    );
    assert_eq!(deployment.stored_files(), 1);

    // Nothing listening: provably not sent (retried by the policy, then given up).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let dead_client = Client::new(dead.clone()).unwrap();
    let url = format!("{dead}/api/storage/upload?token=x");
    let err = dead_client
        .upload(async { Ok(url) }, b"x".to_vec(), "text/plain")
        .await
        .unwrap_err();
    assert!(
        matches!(problem(&err), ErrorKind::Transport { sent: false, .. }),
        "{err}"
    );
    assert!(err.provably_not_run());
}

#[tokio::test]
async fn files_over_the_limit_are_refused() {
    let deployment = start().await;
    let client = Client::builder(deployment.url())
        .max_file_bytes(10_000)
        .build()
        .unwrap();
    // Known to be too large: refused before sending.
    let err = client
        .upload(
            upload_url(&client),
            vec![0u8; 10_001],
            "application/octet-stream",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            problem(&err),
            ErrorKind::TooLarge {
                limit: 10_000,
                sent: false,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.status_code(), StatusCode::PAYLOAD_TOO_LARGE);
    // A stream that grows past it: cut off, nothing stored.
    let err = client
        .upload(
            upload_url(&client),
            UploadBody::stream(chunks(b'z', 1000, 20)),
            "application/octet-stream",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            problem(&err),
            ErrorKind::TooLarge {
                limit: 10_000,
                sent: true,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(deployment.stored_files(), 0);
    // Exactly at the limit is fine.
    let id = client
        .upload(
            upload_url(&client),
            UploadBody::stream(chunks(b'z', 1000, 10)),
            "application/octet-stream",
        )
        .await
        .unwrap();

    // A download over the limit.
    let big = deployment
        .client()
        .upload(
            upload_url(&client),
            vec![1u8; 20_000],
            "application/octet-stream",
        )
        .await
        .unwrap();
    let err = client
        .download(&deployment.file_url(big.as_str()).unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(problem(&err), ErrorKind::TooLarge { limit: 10_000, .. }),
        "{err}"
    );
    let file = client
        .download(&deployment.file_url(id.as_str()).unwrap())
        .await
        .unwrap();
    assert_eq!(file.bytes().await.unwrap().len(), 10_000);
}

#[tokio::test]
async fn downloads_fail_typed_and_retry_before_the_body() {
    let deployment = start().await;
    let client = deployment.client();
    let err = client
        .download(&format!(
            "{}/api/storage/00000000-0000-4000-a000-000000000000",
            deployment.url()
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(problem(&err), ErrorKind::Status { status, .. } if *status == StatusCode::NOT_FOUND),
        "{err}"
    );
    let id = client
        .upload(upload_url(&client), b"abc".to_vec(), "text/plain")
        .await
        .unwrap();
    let url = file_url(&client, &id).await.unwrap();
    deployment.fail_next(1, Fault::system(503, "Overloaded", "busy"));
    assert_eq!(
        &client.download(&url).await.unwrap().bytes().await.unwrap()[..],
        b"abc"
    );
    // A body cut short fails the stream.
    deployment.fail_next(1, Fault::TruncatedBody);
    let err = client
        .download(&url)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap_err();
    assert!(
        matches!(problem(&err), ErrorKind::Transport { .. }),
        "{err}"
    );
    // The timeout holds.
    deployment.set_latency(Duration::from_millis(300));
    let err = client
        .download(&url)
        .timeout(Duration::from_millis(50))
        .await
        .unwrap_err();
    assert!(matches!(problem(&err), ErrorKind::Timeout { .. }), "{err}");
}
