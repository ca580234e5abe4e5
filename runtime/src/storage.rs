//! File storage: a file streamed to an upload URL for its storage id, and a stored file streamed back from the
//! URL a query returned; URLs of another origin than the deployment's are refused.

use crate::attempts::{self, Rules, Tried};
use crate::body;
use crate::client::Client;
use crate::error::{Error, ErrorKind, HttpCall};
use crate::http_action::{timed_out, transport, until_deadline};
use crate::value::Id;
use crate::wire::{excerpt, retry_after};
use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_util::{StreamExt, TryStreamExt};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::AsyncRead;
use tokio_util::io::ReaderStream;

/// The marker of Convex's `_storage` table: a stored file's id is an `Id<Storage>`, as `v.id("_storage")`
/// declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {}

/// The size of the chunks a reader is streamed in.
const READ_CHUNK_BYTES: usize = 64 * 1024;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>;

/// The content of a file to upload: bytes in memory, or a stream that is sent as it is read and never held
/// whole.
///
/// ```
/// use convex_fetch::UploadBody;
///
/// let small = UploadBody::from(b"hello".to_vec());
/// assert_eq!(small.length(), Some(5));
/// # async fn demo() -> std::io::Result<()> {
/// // A file on disk, streamed in chunks, its length sent as `Content-Length`:
/// let file = tokio::fs::File::open("report.pdf").await?;
/// let length = file.metadata().await?.len();
/// let body = UploadBody::reader(file).with_length(length);
/// # let _ = body; Ok(()) }
/// ```
pub struct UploadBody {
    content: Content,
    length: Option<u64>,
}

enum Content {
    Bytes(Bytes),
    Stream(ByteStream),
}

impl UploadBody {
    /// A stream of chunks, sent as they come. Without [`with_length`](Self::with_length) it is sent with
    /// chunked transfer encoding.
    pub fn stream<S, E>(stream: S) -> UploadBody
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        UploadBody {
            content: Content::Stream(Box::pin(stream.err_into())),
            length: None,
        }
    }

    /// Anything readable (a `tokio::fs::File`, a socket, a decompressor), streamed in 64 KiB chunks.
    pub fn reader(reader: impl AsyncRead + Send + 'static) -> UploadBody {
        UploadBody::stream(ReaderStream::with_capacity(reader, READ_CHUNK_BYTES))
    }

    /// Declares the body's length, sent as `Content-Length`; a stream that ends up longer or shorter fails
    /// the upload. Ignored for bytes, whose length is known.
    pub fn with_length(mut self, length: u64) -> UploadBody {
        if let Content::Stream(_) = self.content {
            self.length = Some(length);
        }
        self
    }

    /// The length, when it is known before sending.
    pub fn length(&self) -> Option<u64> {
        self.length
    }
}

/// What [`Client::upload`] takes as the file's content: bytes in memory (`Vec<u8>`, `bytes::Bytes`,
/// `&'static [u8]`, `String`) or an [`UploadBody`] made with [`UploadBody::stream`] or [`UploadBody::reader`]
/// for content that is streamed.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be uploaded as a file's content",
    label = "expected the file's content here",
    note = "an upload takes bytes in memory (`Vec<u8>`, `bytes::Bytes`, `&'static [u8]`, `String`), or a stream: `UploadBody::stream(chunks)` for a `Stream` of `Result<Bytes, E>`, `UploadBody::reader(file)` for an `AsyncRead` such as a `tokio::fs::File`"
)]
pub trait IntoUploadBody {
    /// The body to send.
    fn into_upload_body(self) -> UploadBody;
}

// One impl per form rather than a blanket one over `Into<UploadBody>`, so that rustc reports an unsupported
// body with this trait's message instead of `UploadBody: From<…>`.
macro_rules! into_upload_body {
    ($($body:ty),*) => {$(
        impl IntoUploadBody for $body {
            fn into_upload_body(self) -> UploadBody {
                self.into()
            }
        }
    )*};
}
into_upload_body!(UploadBody, Bytes, Vec<u8>, &'static [u8], String);

/// The first argument of [`Client::upload`]: the call of a mutation that returns
/// `ctx.storage.generateUploadUrl()` (a stub returning `String`, with its own options: `.on(&client)`,
/// `.auth(token)`), or any future resolving to `Result<String, convex_fetch::Error>`, such as `async { Ok(url) }`
/// for a URL in hand.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not the call of an upload-URL mutation",
    label = "expected the call of a mutation returning an upload URL",
    note = "pass the call of a mutation that returns `ctx.storage.generateUploadUrl()` (declared `-> String`): `client.upload(generate_upload_url().on(&client), body, content_type)`",
    note = "a URL already in hand goes as a ready future: `client.upload(async {{ Ok(url) }}, body, content_type)`"
)]
pub trait UploadUrl {
    /// The URL, as a future the upload owns.
    fn into_upload_url(self) -> Pin<Box<dyn Future<Output = Result<String, Error>> + Send>>;
}

impl<U> UploadUrl for U
where
    U: IntoFuture<Output = Result<String, Error>>,
    U::IntoFuture: Send + 'static,
{
    fn into_upload_url(self) -> Pin<Box<dyn Future<Output = Result<String, Error>> + Send>> {
        Box::pin(self.into_future())
    }
}

impl From<Bytes> for UploadBody {
    fn from(bytes: Bytes) -> UploadBody {
        UploadBody {
            length: Some(bytes.len() as u64),
            content: Content::Bytes(bytes),
        }
    }
}

impl From<Vec<u8>> for UploadBody {
    fn from(bytes: Vec<u8>) -> UploadBody {
        Bytes::from(bytes).into()
    }
}

impl From<&'static [u8]> for UploadBody {
    fn from(bytes: &'static [u8]) -> UploadBody {
        Bytes::from_static(bytes).into()
    }
}

impl From<String> for UploadBody {
    fn from(text: String) -> UploadBody {
        Bytes::from(text).into()
    }
}

impl fmt::Debug for UploadBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.content {
            Content::Bytes(_) => "bytes",
            Content::Stream(_) => "stream",
        };
        f.debug_struct("UploadBody")
            .field("content", &kind)
            .field("length", &self.length)
            .finish()
    }
}

/// The upload URL, as the mutation calling `ctx.storage.generateUploadUrl()` returns it.
type UrlFuture = Pin<Box<dyn Future<Output = Result<String, Error>> + Send>>;

/// An upload or download in flight.
type Running<T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send>>;

/// An upload being prepared; `.await` it for the stored file's id. Made by [`Client::upload`].
#[must_use = "an upload does nothing until it is awaited"]
pub struct Upload {
    client: Client,
    /// Taken by the first poll, as are the body and the content type.
    upload_url: UrlFuture,
    body: UploadBody,
    content_type: String,
    timeout: Option<Duration>,
    /// The upload in flight, from the first poll on.
    running: Option<Running<Id<Storage>>>,
}

impl Upload {
    /// The time the POST of the file may take, its answer included (not the call that gets the URL, which
    /// has its own). Default: the client's timeout; raise it for large files.
    pub fn timeout(mut self, timeout: Duration) -> Upload {
        self.timeout = Some(timeout);
        self
    }
}

impl fmt::Debug for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upload")
            .field("body", &self.body)
            .field("content_type", &self.content_type)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// A download being prepared; `.await` it for the file's stream. Made by [`Client::download`].
#[must_use = "a download does nothing until it is awaited"]
pub struct Download {
    client: Client,
    url: String,
    timeout: Option<Duration>,
    /// The download in flight, from the first poll on.
    running: Option<Running<FileStream>>,
}

impl Download {
    /// The time the whole download may take, the body included: the stream fails with
    /// [`ErrorKind::Timeout`] once it has passed. Default: the client's timeout.
    pub fn timeout(mut self, timeout: Duration) -> Download {
        self.timeout = Some(timeout);
        self
    }
}

impl fmt::Debug for Download {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL is not shown: a signed URL's query is a credential.
        f.debug_struct("Download")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Uploads a file to the deployment's file storage and returns its storage id: Convex's three steps in
    /// one, but the last. `upload_url` is the call of a mutation that returns `ctx.storage.generateUploadUrl()`
    /// (awaited first, with its own options and retries); the body is then POSTed to that URL with
    /// `Content-Type: content_type`, streamed, and the deployment's `{"storageId": "…"}` answer read. Store the
    /// id with a mutation of your own.
    ///
    /// Refused with a typed error and never sent: an upload URL of another origin than the
    /// deployment's ([`ErrorKind::ForeignOrigin`]), a body known to be over
    /// [`max_file_bytes`](crate::ClientBuilder::max_file_bytes) ([`ErrorKind::TooLarge`]; a stream that
    /// grows past it is cut off). A non-2xx answer is [`ErrorKind::Status`]. The POST is retried only when
    /// the connection failed before anything was sent and the body is in memory: a file that may have been
    /// stored is never sent twice.
    ///
    /// ```no_run
    /// # use convex_fetch as convex;
    /// # use convex::value::Id;
    /// convex::api!("doc-specs/function_spec.json");
    /// # async fn demo(client: convex::Client, token: String, bytes: Vec<u8>) -> Result<(), convex::Error> {
    /// let id: Id<convex::Storage> = client
    ///     .upload(api::files::generate_upload_url().on(&client).auth(&token), bytes, "image/png")
    ///     .await?;
    /// api::files::save(api::files::SaveArgs { storage_id: id, name: "cat.png".into() })
    ///     .on(&client)
    ///     .auth(&token)
    ///     .await?;
    /// # Ok(()) }
    /// # fn main() {}
    /// ```
    ///
    /// A URL already in hand is a ready future: `client.upload(async { Ok(url) }, body, "text/plain")`.
    pub fn upload(
        &self,
        upload_url: impl UploadUrl,
        body: impl IntoUploadBody,
        content_type: &str,
    ) -> Upload {
        Upload {
            client: self.clone(),
            upload_url: upload_url.into_upload_url(),
            body: body.into_upload_body(),
            content_type: content_type.to_owned(),
            timeout: None,
            running: None,
        }
    }

    /// Downloads a stored file from `url`, as a query returned it (`ctx.storage.getUrl(id)`), as a stream of
    /// chunks read as they arrive. A URL of another origin than the deployment's is refused
    /// ([`ErrorKind::ForeignOrigin`]); a non-2xx answer is [`ErrorKind::Status`]; a file over
    /// [`max_file_bytes`](crate::ClientBuilder::max_file_bytes) fails with [`ErrorKind::TooLarge`]. A
    /// download is a `GET`: it is retried after a failure before its body starts.
    ///
    /// ```no_run
    /// # async fn demo(client: convex_fetch::Client, url: String) -> Result<(), convex_fetch::Error> {
    /// use futures_util::StreamExt;
    ///
    /// let mut file = client.download(&url).await?;
    /// println!("{:?} bytes of {:?}", file.content_length(), file.content_type());
    /// while let Some(chunk) = file.next().await {
    ///     let chunk = chunk?;
    ///     # let _ = chunk;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn download(&self, url: &str) -> Download {
        Download {
            client: self.clone(),
            url: url.to_owned(),
            timeout: None,
            running: None,
        }
    }
}

/// The URL, if it has the deployment's origin.
fn same_origin(client: &Client, url: &str, call: &HttpCall) -> Result<reqwest::Url, Error> {
    let invalid = |message: &str| {
        Error::http(
            call,
            ErrorKind::Invalid {
                message: message.to_owned(),
            },
        )
    };
    // The URL itself is never quoted: its query is the upload's credential.
    let parsed =
        reqwest::Url::parse(url.trim()).map_err(|_| invalid("the URL is not a valid URL"))?;
    let deployment = reqwest::Url::parse(client.full_url())
        .map_err(|_| invalid("the deployment URL is not a valid URL"))?;
    if parsed.origin() != deployment.origin() {
        return Err(Error::http(
            call,
            ErrorKind::ForeignOrigin {
                origin: parsed.origin().ascii_serialization(),
                expected: deployment.origin().ascii_serialization(),
            },
        ));
    }
    Ok(parsed)
}

/// The timeout of a file request: its own, else the client's.
fn timeout_of(client: &Client, timeout: Option<Duration>) -> Duration {
    timeout
        .or(client.defaults().timeout_setting())
        .unwrap_or(crate::DEFAULT_TIMEOUT)
        .min(attempts::FOREVER)
}

/// Starts on the first poll, so that uploads go wherever futures go (`join_all`, `tokio::spawn`).
impl Future for Upload {
    type Output = Result<Id<Storage>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let running = match this.running {
            Some(ref mut running) => running,
            None => {
                // What is left behind is never used: `running` is set from now on.
                let started = Box::pin(upload(
                    this.client.clone(),
                    std::mem::replace(&mut this.upload_url, Box::pin(std::future::pending())),
                    std::mem::replace(&mut this.body, UploadBody::from(Bytes::new())),
                    std::mem::take(&mut this.content_type),
                    this.timeout,
                ));
                this.running.insert(started)
            }
        };
        running.as_mut().poll(cx)
    }
}

async fn upload(
    client: Client,
    upload_url: UrlFuture,
    body: UploadBody,
    content_type: String,
    timeout: Option<Duration>,
) -> Result<Id<Storage>, Error> {
    let call = HttpCall::Upload;
    let url = upload_url.await?;
    let url = same_origin(&client, &url, &call)?;
    let content_type = HeaderValue::from_str(&content_type).map_err(|_| {
        Error::http(
            &call,
            ErrorKind::Invalid {
                message: format!("`{content_type}` is not a valid content type"),
            },
        )
    })?;
    let limit = client.max_file_bytes();
    if let (Some(limit), Some(length)) = (limit, body.length)
        && length > limit
    {
        return Err(Error::http(
            &call,
            ErrorKind::TooLarge { limit, sent: false },
        ));
    }
    let timeout = timeout_of(&client, timeout);
    let span =
        tracing::debug_span!("convex_upload", content_type = ?content_type, length = body.length);
    let sent = AtomicBool::new(false);
    let started = Instant::now();
    let deadline = attempts::deadline(timeout);
    let posting = post_file(
        &client,
        &call,
        url,
        content_type,
        body,
        &sent,
        (deadline, timeout),
    );
    let outcome = until_deadline(
        &call,
        deadline,
        timeout,
        &sent,
        tracing::Instrument::instrument(posting, span.clone()),
    )
    .await;
    let _enter = span.enter();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    match &outcome {
        Ok(id) => tracing::debug!(elapsed_ms, storage_id = %id, "file uploaded"),
        Err(err) => tracing::debug!(elapsed_ms, error = %err, "file upload failed"),
    }
    outcome
}

/// POSTs the file, once unless the connection provably never took an in-memory body, and reads the id; the
/// attempts end at `deadline` (`timeout` after the start).
async fn post_file(
    client: &Client,
    call: &HttpCall,
    url: reqwest::Url,
    content_type: HeaderValue,
    body: UploadBody,
    sent: &AtomicBool,
    (deadline, timeout): (Instant, Duration),
) -> Result<Id<Storage>, Error> {
    let limit = client.max_file_bytes();
    let length = body.length;
    let rules = Rules {
        request: attempts::Request::Upload,
        idempotent: false,
        // Bytes in memory can be sent again after a connection that never took them; a stream only once.
        body_again: matches!(body.content, Content::Bytes(_)),
        slot: None,
    };
    // Taken by the attempt that sends it; a stream is there for the first one only.
    let content = Mutex::new(Some(body.content));
    let attempt = || async {
        let taken = lock(&content).take();
        let (reqwest_body, over_limit) = match taken {
            Some(Content::Bytes(bytes)) => {
                *lock(&content) = Some(Content::Bytes(bytes.clone()));
                (reqwest::Body::from(bytes), None)
            }
            Some(Content::Stream(stream)) => {
                let over_limit = Arc::new(AtomicBool::new(false));
                let counted = Counted {
                    stream,
                    seen: 0,
                    limit,
                    declared: length,
                    over_limit: over_limit.clone(),
                };
                (reqwest::Body::wrap_stream(counted), Some(over_limit))
            }
            // The rules send a stream once.
            None => return Tried::done(Err(unreachable_body(call))),
        };
        let mut request = client
            .reqwest()
            .post(url.clone())
            .header(CONTENT_TYPE, content_type.clone())
            .body(reqwest_body);
        if let Some(length) = length {
            request = request.header(CONTENT_LENGTH, length);
        }
        match request.send().await {
            Ok(response) => Tried::done(Ok(response)),
            Err(_) if over_limit.is_some_and(|flag| flag.load(Ordering::Relaxed)) => {
                Tried::done(Err(Error::http(
                    call,
                    ErrorKind::TooLarge {
                        limit: limit.unwrap_or(u64::MAX),
                        sent: true,
                    },
                )))
            }
            Err(error) => {
                let error = transport(call, error);
                let not_run = matches!(error.kind(), ErrorKind::Transport { sent: false, .. });
                Tried {
                    outcome: Err(error),
                    transient: true,
                    not_run,
                    retry_after: None,
                }
            }
        }
    };
    let timed_out = timed_out(call, timeout, sent);
    let mut response = rules
        .run(client, deadline, sent, attempt, timed_out)
        .await?;
    let status = response.status();
    // Read no further than an answer can be: an endless body is cut off, not read until the deadline.
    let answer = body::read(&mut response, body::SMALL_BODY_BYTES)
        .await
        .map_err(|e| transport(call, e))?;
    if !status.is_success() {
        return Err(Error::http(
            call,
            ErrorKind::Status {
                status,
                body: excerpt(answer.bytes()),
            },
        ));
    }
    let answer = match answer {
        body::Read::Whole(answer) => answer,
        body::Read::Cut(start) => {
            let limit = body::SMALL_BODY_BYTES;
            let message = format!("the answer is larger than {limit} bytes");
            return Err(decode(call, message, &start));
        }
    };
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Stored {
        storage_id: String,
    }
    match serde_json::from_slice::<Stored>(&answer) {
        Ok(stored) if !stored.storage_id.is_empty() => Ok(Id::new(stored.storage_id)),
        Ok(_) => Err(decode(call, "the `storageId` is empty".to_owned(), &answer)),
        Err(e) => Err(decode(
            call,
            format!("expected {{\"storageId\": \"…\"}}: {e}"),
            &answer,
        )),
    }
}

/// The lock of `mutex`, whoever panicked holding it (what it guards stays whole).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn unreachable_body(call: &HttpCall) -> Error {
    Error::http(
        call,
        ErrorKind::Invalid {
            message: "the upload's stream was already sent".to_owned(),
        },
    )
}

fn decode(call: &HttpCall, message: String, body: &[u8]) -> Error {
    Error::http(
        call,
        ErrorKind::Decode {
            message,
            excerpt: excerpt(body),
        },
    )
}

/// An upload stream that counts what it sends: past the size limit or the declared length it fails, which
/// cuts the request off (the deployment then stores nothing).
struct Counted {
    stream: ByteStream,
    seen: u64,
    limit: Option<u64>,
    declared: Option<u64>,
    over_limit: Arc<AtomicBool>,
}

impl Stream for Counted {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let next = std::task::ready!(self.stream.as_mut().poll_next(cx));
        match next {
            Some(Ok(chunk)) => {
                self.seen = self.seen.saturating_add(chunk.len() as u64);
                if self.limit.is_some_and(|limit| self.seen > limit) {
                    self.over_limit.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(
                        "the file is larger than `max_file_bytes`".into()
                    )));
                }
                if self.declared.is_some_and(|declared| self.seen > declared) {
                    return Poll::Ready(Some(Err(
                        "the stream is longer than the length declared with `with_length`".into(),
                    )));
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            None if self.declared.is_some_and(|declared| self.seen != declared) => {
                Poll::Ready(Some(Err(
                    "the stream is shorter than the length declared with `with_length`".into(),
                )))
            }
            other => Poll::Ready(other),
        }
    }
}

/// Starts on the first poll, as [`Upload`] does.
impl Future for Download {
    type Output = Result<FileStream, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let running = match this.running {
            Some(ref mut running) => running,
            None => {
                let started = Box::pin(download(
                    this.client.clone(),
                    std::mem::take(&mut this.url),
                    this.timeout,
                ));
                this.running.insert(started)
            }
        };
        running.as_mut().poll(cx)
    }
}

async fn download(
    client: Client,
    url: String,
    timeout: Option<Duration>,
) -> Result<FileStream, Error> {
    let call = HttpCall::Download;
    let url = same_origin(&client, &url, &call)?;
    let timeout = timeout_of(&client, timeout);
    let deadline = attempts::deadline(timeout);
    let sent = AtomicBool::new(false);
    let rules = Rules {
        request: attempts::Request::Download,
        idempotent: true,
        body_again: true,
        slot: None,
    };
    let attempt = || async {
        match client.reqwest().get(url.clone()).send().await {
            Ok(response) if response.status().is_success() => Tried::done(Ok(response)),
            Ok(mut response) => {
                let status = response.status();
                let retry_after = retry_after(response.headers());
                // Only an excerpt is kept: what is past the small limit is never read.
                let read = body::read(&mut response, body::SMALL_BODY_BYTES).await;
                let error = Error::http(
                    &call,
                    ErrorKind::Status {
                        status,
                        body: excerpt(read.as_ref().map_or(&[][..], body::Read::bytes)),
                    },
                );
                Tried {
                    outcome: Err(error),
                    transient: matches!(status.as_u16(), 429 | 502 | 503 | 504),
                    not_run: false,
                    retry_after,
                }
            }
            Err(e) => Tried {
                outcome: Err(transport(&call, e)),
                transient: true,
                not_run: false,
                retry_after: None,
            },
        }
    };
    let timed_out = timed_out(&call, timeout, &sent);
    let response = rules
        .run(&client, deadline, &sent, attempt, timed_out)
        .await?;
    let limit = client.max_file_bytes();
    let content_length = response.content_length();
    if let (Some(limit), Some(length)) = (limit, content_length)
        && length > limit
    {
        return Err(Error::http(
            &call,
            ErrorKind::TooLarge { limit, sent: true },
        ));
    }
    let status = response.status();
    let headers = response.headers().clone();
    Ok(FileStream {
        status,
        headers,
        content_length,
        body: Box::pin(response.bytes_stream()),
        deadline: Box::pin(tokio::time::sleep_until(deadline.into())),
        timeout,
        limit,
        seen: 0,
        done: false,
    })
}

/// A stored file being downloaded: its headers, and its body as a stream of chunks
/// (`Stream<Item = Result<Bytes, Error>>`), read as they arrive. A chunk past the size limit or the
/// download's timeout fails the stream, which then ends.
pub struct FileStream {
    status: StatusCode,
    headers: HeaderMap,
    content_length: Option<u64>,
    body: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    deadline: Pin<Box<tokio::time::Sleep>>,
    timeout: Duration,
    limit: Option<u64>,
    seen: u64,
    done: bool,
}

impl FileStream {
    /// The HTTP status (a 2xx).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The answer's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The file's content type, as it was uploaded.
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
    }

    /// The file's length, when the deployment sent it.
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// Reads the rest of the file into memory: for small files only.
    pub async fn bytes(mut self) -> Result<Bytes, Error> {
        let mut all = BytesMut::new();
        while let Some(chunk) = self.next().await {
            all.extend_from_slice(&chunk?);
        }
        Ok(all.freeze())
    }

    fn fail(&mut self, kind: ErrorKind) -> Poll<Option<Result<Bytes, Error>>> {
        self.done = true;
        Poll::Ready(Some(Err(Error::http(&HttpCall::Download, kind))))
    }
}

impl Stream for FileStream {
    type Item = Result<Bytes, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            let after = self.timeout;
            return self.fail(ErrorKind::Timeout { after, sent: true });
        }
        match std::task::ready!(self.body.as_mut().poll_next(cx)) {
            Some(Ok(chunk)) => {
                self.seen = self.seen.saturating_add(chunk.len() as u64);
                if let Some(limit) = self.limit.filter(|limit| self.seen > *limit) {
                    return self.fail(ErrorKind::TooLarge { limit, sent: true });
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Some(Err(e)) => {
                self.done = true;
                Poll::Ready(Some(Err(transport(&HttpCall::Download, e))))
            }
            None => {
                self.done = true;
                Poll::Ready(None)
            }
        }
    }
}

impl fmt::Debug for FileStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStream")
            .field("status", &self.status)
            .field("content_type", &self.content_type())
            .field("content_length", &self.content_length)
            .field("read", &self.seen)
            .finish_non_exhaustive()
    }
}
