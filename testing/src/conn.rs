//! Connections a handler can cut: a listener whose streams fail once killed, so the server closes them
//! without writing a response.

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// The handle of one accepted connection, reaching handlers through `ConnectInfo`.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    killed: Arc<AtomicBool>,
}

impl Connection {
    fn new() -> Connection {
        Connection {
            killed: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Makes every later read and write of the connection fail: the server drops it without writing the
    /// response it is about to send.
    pub(crate) fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
    }
}

impl Connected<IncomingStream<'_, KillableListener>> for Connection {
    fn connect_info(stream: IncomingStream<'_, KillableListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// A TCP listener whose connections can be killed.
#[derive(Debug)]
pub(crate) struct KillableListener {
    listener: TcpListener,
}

impl KillableListener {
    pub(crate) fn new(listener: TcpListener) -> KillableListener {
        KillableListener { listener }
    }
}

impl Listener for KillableListener {
    type Io = KillableStream;
    type Addr = Connection;

    async fn accept(&mut self) -> (KillableStream, Connection) {
        loop {
            match self.listener.accept().await {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let connection = Connection::new();
                    let stream = KillableStream {
                        stream,
                        killed: connection.killed.clone(),
                    };
                    return (stream, connection);
                }
                // Out of file descriptors and the like: wait for it to pass, as axum's own listener does.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Connection> {
        self.listener
            .local_addr()
            .map(|_: SocketAddr| Connection::new())
    }
}

/// A TCP stream that fails every operation once its connection is killed.
#[derive(Debug)]
pub(crate) struct KillableStream {
    stream: TcpStream,
    killed: Arc<AtomicBool>,
}

impl KillableStream {
    fn check(&self) -> io::Result<()> {
        if self.killed.load(Ordering::SeqCst) {
            Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "connection dropped by the test deployment",
            ))
        } else {
            Ok(())
        }
    }
}

impl AsyncRead for KillableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
