//! File storage as the backend serves it: upload URLs (`/api/storage/upload?token=…`) answering
//! `{"storageId": "…"}`, and stored files at `/api/storage/<uuid>`. Files are streamed to a temporary
//! directory, never held in memory, and removed with the deployment.

use super::lock;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_core::Stream;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use tokio::io::AsyncWriteExt;

/// The path of upload URLs.
const UPLOAD_PATH: &str = "/api/storage/upload";

/// The path under which stored files are served.
pub(crate) const FILES_PATH: &str = "/api/storage/";

/// One stored file.
#[derive(Debug, Clone)]
struct StoredFile {
    uuid: String,
    path: PathBuf,
    content_type: Option<String>,
    length: u64,
}

/// The files of one deployment, shared by its server and the handlers of the helpers that hand out URLs.
#[derive(Debug, Default)]
pub(crate) struct Files {
    /// The deployment URL, known once it is bound.
    pub(crate) base_url: OnceLock<String>,
    dir: OnceLock<PathBuf>,
    tokens: Mutex<HashSet<String>>,
    /// By storage id.
    stored: Mutex<HashMap<String, StoredFile>>,
    counter: AtomicU64,
}

impl Files {
    /// 64 bits that look random, different for each call.
    fn random(&self) -> u64 {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        RandomState::new().hash_one(n)
    }

    /// A new upload URL, as `ctx.storage.generateUploadUrl()` returns it.
    pub(crate) fn upload_url(&self) -> String {
        let token = format!("{:016x}{:016x}", self.random(), self.random());
        lock(&self.tokens).insert(token.clone());
        format!("{}{UPLOAD_PATH}?token={token}", self.base())
    }

    /// The URL of a stored file, as `ctx.storage.getUrl(id)` returns it; `None` for an unknown id.
    pub(crate) fn url(&self, storage_id: &str) -> Option<String> {
        let stored = lock(&self.stored);
        let file = stored.get(storage_id)?;
        Some(format!("{}{FILES_PATH}{}", self.base(), file.uuid))
    }

    /// The bytes of a stored file.
    pub(crate) fn read(&self, storage_id: &str) -> Option<Vec<u8>> {
        let path = lock(&self.stored).get(storage_id)?.path.clone();
        std::fs::read(path).ok()
    }

    pub(crate) fn content_type(&self, storage_id: &str) -> Option<String> {
        lock(&self.stored).get(storage_id)?.content_type.clone()
    }

    pub(crate) fn count(&self) -> usize {
        lock(&self.stored).len()
    }

    fn base(&self) -> &str {
        self.base_url.get().map_or("", String::as_str)
    }

    fn dir(&self) -> std::io::Result<&PathBuf> {
        if let Some(dir) = self.dir.get() {
            return Ok(dir);
        }
        let dir = std::env::temp_dir().join(format!(
            "convex-fetch-testing-{}-{:016x}",
            std::process::id(),
            self.random()
        ));
        // Readable by this user only: the files are what tests uploaded, perhaps private. Made new (not
        // `create_dir_all`), so that a folder someone else made under the name is never used.
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir)?;
        // Another task may have won; the directory it made is the one kept.
        if self.dir.set(dir.clone()).is_err() {
            let _ = std::fs::remove_dir(&dir);
        }
        self.dir
            .get()
            .ok_or_else(|| std::io::Error::other("no storage directory"))
    }

    /// A storage id in the shape of a document id of `_storage`: 32 lowercase base-32 characters.
    fn new_id(&self) -> String {
        const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";
        let bits = (u128::from(self.random()) << 64) | u128::from(self.random());
        (0..32)
            .map(|i| ALPHABET[((bits >> (i * 4)) & 31) as usize] as char)
            .collect()
    }

    fn new_uuid(&self) -> String {
        let (a, b) = (self.random(), self.random());
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.get() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Whether a request path is the storage API's.
pub(crate) fn serves(path: &str) -> bool {
    path.starts_with(FILES_PATH)
}

/// Serves an upload or a download. `Ok(response)` once the upload is stored, so that a fault striking after
/// it can drop the answer.
pub(crate) async fn handle(files: &Files, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    if path == UPLOAD_PATH {
        if request.method() != Method::POST {
            return refuse(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "POST the file to its upload URL",
            );
        }
        return upload(files, request).await;
    }
    if request.method() != Method::GET {
        return refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "GET a stored file",
        );
    }
    download(files, path.strip_prefix(FILES_PATH).unwrap_or_default()).await
}

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "code": code, "message": message });
    (
        status,
        [(CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn upload(files: &Files, request: Request) -> Response {
    let token = request.uri().query().and_then(|query| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix("token="))
            .map(str::to_owned)
    });
    let known = token.is_some_and(|token| lock(&files.tokens).contains(&token));
    if !known {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "StorageTokenInvalid",
            "The upload URL's token is missing or unknown: get one from `ctx.storage.generateUploadUrl()`",
        );
    }
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let id = files.new_id();
    let stored = match store(files, &id, request.into_body()).await {
        Ok(stored) => stored,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, "BadUpload", &message),
    };
    let (path, length) = stored;
    if declared.is_some_and(|declared| declared != length) {
        let _ = std::fs::remove_file(&path);
        return refuse(
            StatusCode::BAD_REQUEST,
            "BadUpload",
            "the body's length is not its Content-Length",
        );
    }
    lock(&files.stored).insert(
        id.clone(),
        StoredFile {
            uuid: files.new_uuid(),
            path,
            content_type,
            length,
        },
    );
    let body = serde_json::json!({ "storageId": id });
    (
        StatusCode::OK,
        [(CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Streams the body to a new file; a body that breaks off leaves nothing behind.
async fn store(files: &Files, id: &str, body: Body) -> Result<(PathBuf, u64), String> {
    let dir = files
        .dir()
        .map_err(|e| format!("the test deployment cannot store files: {e}"))?;
    let path = dir.join(id);
    let mut options = tokio::fs::OpenOptions::new();
    // Readable by this user only, as the folder is; a new file, never one already there.
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options
        .open(&path)
        .await
        .map_err(|e| format!("the test deployment cannot store files: {e}"))?;
    let mut stream = body.into_data_stream();
    let mut length = 0u64;
    let outcome: Result<(), String> = async {
        while let Some(chunk) = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await
        {
            let chunk = chunk.map_err(|e| format!("the body broke off: {e}"))?;
            length += chunk.len() as u64;
            file.write_all(&chunk).await.map_err(|e| e.to_string())?;
        }
        file.flush().await.map_err(|e| e.to_string())
    }
    .await;
    match outcome {
        Ok(()) => Ok((path, length)),
        Err(message) => {
            drop(file);
            let _ = tokio::fs::remove_file(&path).await;
            Err(message)
        }
    }
}

async fn download(files: &Files, uuid: &str) -> Response {
    let found = lock(&files.stored)
        .values()
        .find(|file| file.uuid == uuid)
        .cloned();
    let Some(stored) = found else {
        return refuse(
            StatusCode::NOT_FOUND,
            "FileNotFound",
            &format!("File {uuid} not found"),
        );
    };
    let file = match tokio::fs::File::open(&stored.path).await {
        Ok(file) => file,
        Err(_) => {
            return refuse(
                StatusCode::NOT_FOUND,
                "FileNotFound",
                &format!("File {uuid} not found"),
            );
        }
    };
    let mut response = Body::from_stream(tokio_util::io::ReaderStream::new(file)).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_LENGTH, HeaderValue::from(stored.length));
    if let Some(value) = stored
        .content_type
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        headers.insert(CONTENT_TYPE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored file and its folder are readable by their owner only.
    #[cfg(unix)]
    #[tokio::test]
    async fn stored_files_are_the_owners_only() {
        use std::os::unix::fs::PermissionsExt;
        let files = Files::default();
        let (path, length) = store(&files, "some-id", Body::from("private"))
            .await
            .unwrap();
        assert_eq!(length, 7);
        let mode =
            |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600, "the file");
        assert_eq!(mode(path.parent().unwrap()), 0o700, "the folder");
        drop(files);
        assert!(!path.exists(), "removed with the deployment");
    }
}
