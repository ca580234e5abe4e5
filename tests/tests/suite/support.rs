//! What several areas of the suite share: the capture of `tracing` output, a TLS front with a private CA, an
//! example's axum app in front of the TypeScript functions, running one test of this binary again in a
//! child process, and the live areas' message board.

use std::cell::RefCell;
use std::io::Write;
use std::process::Command;
use std::sync::{Arc, Mutex, Once};

use convex_fetch_testing::{Ctx, JsDeployment, TestDeployment, TestDeploymentBuilder};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// Everything `tracing` prints on this thread while captured (a `#[tokio::test]` runs on one thread, and a
/// call is polled on the thread that awaits it).
///
/// One global subscriber serves every test of this binary and writes each event to the buffer of the thread
/// that emitted it: scoped subscribers (`set_default`) on several threads at once race in `tracing`'s cache
/// of which call sites are enabled, and lose events. Threads that capture nothing have every event disabled,
/// so the other tests pay nothing for it.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

thread_local! {
    static CAPTURING: RefCell<Option<Logs>> = const { RefCell::new(None) };
}

/// Writes to the capture of the current thread, if any.
struct ThreadWriter;

impl Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURING.with(|logs| {
            if let Some(logs) = &*logs.borrow() {
                logs.0.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Stops capturing when dropped.
#[derive(Debug)]
pub struct Capturing;

impl Drop for Capturing {
    fn drop(&mut self) {
        CAPTURING.with(|logs| logs.borrow_mut().take());
    }
}

impl Logs {
    /// Captures every event of every level on this thread until the guard is dropped.
    pub fn capture() -> (Logs, Capturing) {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            use tracing_subscriber::layer::SubscriberExt;
            // Asked at each event, never cached per call site: whether this thread captures.
            let capturing = tracing_subscriber::filter::dynamic_filter_fn(|_, _| {
                CAPTURING.with(|logs| logs.borrow().is_some())
            });
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_writer(|| ThreadWriter)
                .with_ansi(false)
                .finish()
                .with(capturing);
            tracing::subscriber::set_global_default(subscriber).unwrap();
        });
        let logs = Logs::default();
        CAPTURING.with(|current| *current.borrow_mut() = Some(logs.clone()));
        (logs, Capturing)
    }

    /// What was captured so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Forgets what was captured so far.
    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

/// A TLS endpoint on 127.0.0.1 with a certificate of a CA made here, in front of the plain HTTP server at
/// `backend` (`http://…`); returns its URL and the CA's certificate in PEM.
pub async fn tls_front(backend: &str) -> (String, String) {
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pair.serialize_der()));
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let front = format!("https://{}", listener.local_addr().unwrap());
    let backend = backend.trim_start_matches("http://").to_owned();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (acceptor, backend) = (acceptor.clone(), backend.clone());
            tokio::spawn(async move {
                // A refused handshake (the client did not trust us) just ends the connection.
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                let mut plain = TcpStream::connect(backend).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    (front, cert.pem())
}

/// The TypeScript functions of `examples/convex` on a `JsDeployment`, and the example app `router` makes for
/// it, served on 127.0.0.1; returns the deployment and the app's URL.
pub async fn example_app(
    router: impl FnOnce(&JsDeployment) -> axum::Router,
) -> (JsDeployment, String) {
    let deployment = examples::local::start().await.unwrap();
    let app = examples::spawn(router(&deployment)).await.unwrap();
    (deployment, app)
}

/// This binary, set to run only the test `name` of `module` (`module_path!()` of the caller) with its output
/// shown: for a test that needs a process of its own for one case (its environment, its default client).
pub fn rerun(module: &str, name: &str) -> Command {
    // `module_path!()` starts with the crate's name; a test's name starts below it.
    let module = module.split_once("::").map_or("", |(_, path)| path);
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args(["--exact", &format!("{module}::{name}"), "--nocapture"]);
    command
}

/// For a test that changes process-wide state (it installs the default client, which is set once): false in
/// the suite's process, where it runs the test `name` of `module` again in a child process of its own and
/// asserts that it passed; true in that child, where the test's body then runs.
pub fn alone(module: &str, name: &str) -> bool {
    const CHILD: &str = "CONVEX_FETCH_TEST_ALONE";
    if std::env::var_os(CHILD).is_some() {
        return true;
    }
    let out = stdout_of(rerun(module, name).env(CHILD, "1"));
    assert!(out.contains("1 passed"), "{out}");
    false
}

/// What a child of [`rerun`] printed, once it has passed (its output is shown if it did not).
pub fn stdout_of(command: &mut Command) -> String {
    let out = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The next item of a live stream, within 10 s; panics if none comes or the stream ends.
pub async fn next_item<T>(
    stream: &mut (impl futures_util::Stream<Item = Result<T, convex::Error>> + Unpin),
) -> Result<T, convex::Error> {
    use futures_util::StreamExt;
    tokio::time::timeout(std::time::Duration::from_secs(10), stream.next())
        .await
        .expect("a stream item within 10 s")
        .expect("the stream goes on")
}

/// Waits until `done` holds, checking every few milliseconds, for at most 20 s.
pub async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while !done() {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("not within 20 s: {what}"));
}

/// The messages of [`message_board`].
#[derive(Default)]
pub struct Messages(pub Vec<String>);

/// A test deployment of the live areas: `messages:list` and `messages:count` read a [`Messages`] state,
/// `messages:send` adds its `body` to it and answers it.
pub fn message_board() -> TestDeploymentBuilder {
    TestDeployment::builder()
        .state(Messages::default())
        .query("messages:list", |ctx: Ctx, _: convex::value::Value| async move {
            Ok(ctx.state::<Messages>()?.0.clone())
        })
        .query("messages:count", |ctx: Ctx, _: convex::value::Value| async move {
            Ok(ctx.state::<Messages>()?.0.len() as f64)
        })
        .mutation(
            "messages:send",
            |ctx: Ctx, args: serde_json::Value| async move {
                let body = args["body"].as_str().unwrap_or_default().to_owned();
                ctx.state::<Messages>()?.0.push(body.clone());
                Ok(body)
            },
        )
}
