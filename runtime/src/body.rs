//! An HTTP answer's body read within a limit: whatever a server sends, no reader holds more than its limit,
//! and an endless body is cut off rather than read until memory runs out.

/// The limit of the bodies only quoted or briefly parsed: error answers (of which an excerpt is kept), a token
/// endpoint's `{"token": …}`, an upload's `{"storageId": …}`. Any real one is far smaller.
pub(crate) const SMALL_BODY_BYTES: usize = 64 * 1024;

/// A body read within a limit.
pub(crate) enum Read {
    /// The whole body, within the limit.
    Whole(Vec<u8>),
    /// The body went past the limit: its first `limit` bytes; the rest was not read.
    Cut(Vec<u8>),
}

impl Read {
    /// The bytes read, whole or not: enough for an excerpt.
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Read::Whole(bytes) | Read::Cut(bytes) => bytes,
        }
    }
}

/// Reads `response`'s body, stopping at the first chunk that takes it past `limit` bytes.
pub(crate) async fn read(
    response: &mut reqwest::Response,
    limit: usize,
) -> Result<Read, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = limit.saturating_sub(body.len());
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok(Read::Cut(body));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Read::Whole(body))
}
