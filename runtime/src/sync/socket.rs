//! The live socket's connection and its secret-bearing frames.
//!
//! The TCP connection is opened here rather than by tungstenite, so that it goes where the client's HTTP calls
//! go: directly, or through their `http://` proxy in a `CONNECT` tunnel ([`open`]).
//!
//! A frame that carries a credential (`Authenticate`) is written here too ([`send_secret`]): tungstenite
//! logs every frame it writes at trace level, its payload in `Debug` and in hex, and a log is no place for a
//! JWT or an admin key. Such a frame is masked and written straight to the stream, after tungstenite has
//! flushed what it holds, so that the frames still go out in order.

use super::random;
use crate::live_settings::SocketRoute;
use futures_util::SinkExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

/// The most a proxy's answer to `CONNECT` may hold before its end: a status line and a few headers.
const MAX_PROXY_ANSWER_BYTES: usize = 8 * 1024;

/// A TCP connection to `host:port` (the deployment's), by `route`. The errors say what failed without the
/// proxy's credentials.
pub(super) async fn open(route: &SocketRoute, host: &str, port: u16) -> Result<TcpStream, String> {
    let stream = match route {
        SocketRoute::Direct => TcpStream::connect((host, port))
            .await
            .map_err(|e| format!("the WebSocket could not connect: {e}"))?,
        SocketRoute::Tunnel {
            proxy,
            authorization,
        } => {
            let mut stream = TcpStream::connect(proxy.as_str())
                .await
                .map_err(|e| format!("the proxy at {proxy} could not be reached: {e}"))?;
            tunnel(&mut stream, host, port, authorization.as_ref())
                .await
                .map_err(|e| format!("the proxy at {proxy} did not open a tunnel: {e}"))?;
            stream
        }
        // Refused before a connection is made (`sync::connect`); here for completeness.
        SocketRoute::Unsupported { scheme } => {
            return Err(format!(
                "the WebSocket cannot go through a `{scheme}://` proxy"
            ));
        }
    };
    // Small frames (pings, acknowledgements) go out at once.
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Asks the proxy on `stream` for a tunnel to `host:port` and reads its answer, no further than its end (what
/// follows is the deployment's).
async fn tunnel<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    host: &str,
    port: u16,
    authorization: Option<&http::HeaderValue>,
) -> Result<(), String> {
    // An IPv6 address is bracketed in an authority.
    let authority = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut head = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n").into_bytes();
    if let Some(authorization) = authorization {
        head.extend_from_slice(b"Proxy-Authorization: ");
        head.extend_from_slice(authorization.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    stream.write_all(&head).await.map_err(|e| e.to_string())?;
    stream.flush().await.map_err(|e| e.to_string())?;
    // Byte by byte: the answer's end must not be read past.
    let mut answer = Vec::new();
    while !answer.ends_with(b"\r\n\r\n") {
        if answer.len() >= MAX_PROXY_ANSWER_BYTES {
            return Err(format!(
                "its answer is longer than {MAX_PROXY_ANSWER_BYTES} bytes"
            ));
        }
        let byte = stream.read_u8().await.map_err(|e| e.to_string())?;
        answer.push(byte);
    }
    let status_line = answer
        .split(|&b| b == b'\r')
        .next()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    let status = status_line.split(' ').nth(1).unwrap_or("");
    if status.len() == 3 && status.starts_with('2') {
        Ok(())
    } else {
        Err(format!("it answered `{}`", status_line.escape_debug()))
    }
}

/// Sends `text` as one text frame on `socket`, written past tungstenite (whose trace log would show it): the
/// frames tungstenite holds go first.
pub(super) async fn send_secret<S: AsyncRead + AsyncWrite + Unpin>(
    socket: &mut WebSocketStream<S>,
    text: &str,
) -> Result<(), String> {
    // Only flushing: no frame of tungstenite's is left behind the one written next.
    SinkExt::<Message>::flush(socket)
        .await
        .map_err(|e| format!("sending failed: {e}"))?;
    let frame = masked_text_frame(text.as_bytes(), random::mask());
    let stream = socket.get_mut();
    stream
        .write_all(&frame)
        .await
        .map_err(|e| format!("sending failed: {e}"))?;
    stream
        .flush()
        .await
        .map_err(|e| format!("sending failed: {e}"))
}

/// A final text frame of `payload`, masked with `mask` as a client's frames must be (RFC 6455 §5.2, §5.3).
fn masked_text_frame(payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    const FIN_TEXT: u8 = 0x81;
    const MASKED: u8 = 0x80;
    let mut frame = Vec::with_capacity(payload.len() + 14);
    frame.push(FIN_TEXT);
    match payload.len() {
        // Each arm's bound makes its cast exact.
        len @ 0..=125 => frame.push(MASKED | len as u8),
        len @ 126..=0xFFFF => {
            frame.push(MASKED | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            frame.push(MASKED | 127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame.extend(
        payload
            .iter()
            .zip(mask.iter().cycle())
            .map(|(byte, key)| byte ^ key),
    );
    frame
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_tungstenite::tungstenite::protocol::Role;

    /// What a server reads of the frames written here: the same messages, in order, whatever their size.
    #[tokio::test]
    async fn a_secret_frame_reads_back_as_the_message_it_carries() {
        let (client, server) = tokio::io::duplex(1 << 20);
        let mut client = WebSocketStream::from_raw_socket(client, Role::Client, None).await;
        let mut server = WebSocketStream::from_raw_socket(server, Role::Server, None).await;
        let texts = [
            String::new(),
            "a".repeat(125),
            "b".repeat(126),
            "c".repeat(0xFFFF),
            "d".repeat(0x10000),
        ];
        for text in &texts {
            client.send(Message::text("before")).await.unwrap();
            send_secret(&mut client, text).await.unwrap();
        }
        use futures_util::StreamExt;
        for text in &texts {
            let before = server.next().await.unwrap().unwrap();
            assert_eq!(before.into_text().unwrap().as_str(), "before");
            let got = server.next().await.unwrap().unwrap();
            assert_eq!(got.into_text().unwrap().as_str(), text.as_str());
        }
    }

    #[tokio::test]
    async fn a_tunnel_is_asked_for_and_its_answer_read_to_its_end_only() {
        let (mut client, mut proxy) = tokio::io::duplex(1 << 16);
        let auth = http::HeaderValue::from_static("Basic dTpw");
        let asking = tokio::spawn(async move {
            let result = tunnel(&mut client, "::1", 443, Some(&auth)).await;
            (result, client)
        });
        let mut head = vec![0u8; 1024];
        let n = proxy.read(&mut head).await.unwrap();
        let head = String::from_utf8_lossy(&head[..n]).into_owned();
        assert_eq!(
            head,
            "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\nProxy-Authorization: Basic dTpw\r\n\r\n"
        );
        proxy
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\nTLS")
            .await
            .unwrap();
        let (result, mut client) = asking.await.unwrap();
        result.unwrap();
        let mut rest = [0u8; 3];
        client.read_exact(&mut rest).await.unwrap();
        assert_eq!(&rest, b"TLS", "what follows the answer is left to read");

        let (mut client, mut proxy) = tokio::io::duplex(1 << 16);
        let asking = tokio::spawn(async move { tunnel(&mut client, "h", 80, None).await });
        let mut head = vec![0u8; 1024];
        let _ = proxy.read(&mut head).await.unwrap();
        proxy
            .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
            .await
            .unwrap();
        let err = asking.await.unwrap().unwrap_err();
        assert!(err.contains("407"), "{err}");
    }
}
