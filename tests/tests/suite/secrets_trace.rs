//! No log record at any level, from this crate or a dependency, holds a credential: everything is captured at
//! TRACE, `log` records of tungstenite, reqwest and the rest bridged into `tracing` (as
//! `tracing_subscriber::fmt().init()` bridges them), while HTTP calls, HTTP actions, uploads and live calls
//! run with static tokens, admin keys and a token source that replaces its token on the open socket. The
//! capture is searched for each secret as text, in hex and in base64.
//!
//! The subscriber and the `log` bridge are process-wide: the test runs in a process of its own
//! (`support::alone`).

use base64::Engine as _;
use convex::token::{LiveTokens, Token};
use convex::{Client, LiveSettings, RetryPolicy};
use convex_fetch_testing::{Ctx, TestDeployment};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing_subscriber::util::SubscriberInitExt;

const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.STATIC-TOKEN-SECRET-7f3a.sig";
const ADMIN_KEY: &str = "prod:happy-otter-123|ADMIN-SECRET-91bc";

/// Everything written to it, kept.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An unsigned JWT of `subject` expiring at `exp` (the test deployment matches tokens by their text).
fn jwt(subject: &str, exp: f64) -> String {
    let part = |text: String| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
    format!(
        "{}.{}.sig",
        part(r#"{"alg":"none"}"#.to_owned()),
        part(json!({ "sub": subject, "exp": exp, "pad": "LIVE-TOKEN-SECRET" }).to_string())
    )
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// The forms a secret could take in a log: as text, in hex (either case), in base64 (standard and URL-safe,
/// at each of the three alignments, without the characters that depend on the bytes around it).
fn forms(secret: &str) -> Vec<String> {
    let bytes = secret.as_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut forms = vec![secret.to_owned(), hex.clone(), hex.to_uppercase()];
    for engine in [
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ] {
        for skip in 0..3 {
            let whole = bytes.len() - skip - (bytes.len() - skip) % 3;
            let encoded = engine.encode(&bytes[skip..skip + whole]);
            forms.push(encoded);
        }
    }
    forms
}

/// The test deployment, served on a thread of its own whose log records go nowhere: only the client's
/// (this process's other threads) are captured. The deployment's own sockets log what they receive, which is
/// the server's business, not the client's.
fn server_side(live_tokens: [String; 2]) -> TestDeployment {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _quiet = tracing::subscriber::set_default(tracing::subscriber::NoSubscriber::default());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let mut builder = TestDeployment::builder()
                .query("users:me", |ctx: Ctx, _args: Value| async move {
                    Ok(ctx.identity().map(|i| i["subject"].clone()))
                })
                .upload_url_mutation("files:uploadUrl")
                .file_url_query("files:url")
                .http_route(
                    "GET",
                    "/me",
                    |request: convex_fetch_testing::HttpActionRequest| async move {
                        axum::Json(request.identity().map(|i| i["subject"].clone()))
                    },
                )
                .admin_key(ADMIN_KEY)
                .token(TOKEN, json!({ "subject": "static" }));
            for token in &live_tokens {
                builder = builder.token(token.clone(), json!({ "subject": "ada" }));
            }
            sender.send(builder.start().await).unwrap();
            std::future::pending::<()>().await;
        });
    });
    receiver.recv().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_log_record_holds_a_credential() {
    if !crate::support::alone(module_path!(), "no_log_record_holds_a_credential") {
        return;
    }
    let captured = Captured::default();
    let writer = captured.clone();
    // `try_init` installs the `log` bridge, as an application's `fmt().init()` does.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish()
        .try_init()
        .unwrap();

    let start = now_secs();
    // The first token of the source expires soon, so the open socket is re-authenticated with the second.
    let live_tokens = [jwt("ada", start + 2.0), jwt("ada", start + 3600.0)];
    let deployment = server_side(live_tokens.clone());
    let with_token = Client::builder(deployment.url())
        .auth(TOKEN)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let with_admin_key = Client::builder(deployment.url())
        .admin_key(ADMIN_KEY)
        .build()
        .unwrap();

    // HTTP: calls, an HTTP action, an upload and a download, with each credential.
    for client in [&with_token, &with_admin_key] {
        let _: Option<String> = client.query("users:me", json!({})).await.unwrap();
        let answer = client
            .http_request(convex::Method::GET, "/me")
            .await
            .unwrap();
        assert!(answer.status().is_success());
        let id = client
            .upload(
                client.mutation::<_, String>("files:uploadUrl", json!({})),
                b"a file".to_vec(),
                "text/plain",
            )
            .await
            .unwrap();
        let url: String = client
            .query("files:url", json!({ "storageId": id.as_str() }))
            .await
            .unwrap();
        assert_eq!(
            &client.download(&url).await.unwrap().bytes().await.unwrap()[..],
            b"a file"
        );
    }

    // Live: static credentials, then a token source whose first token is replaced on the open socket.
    for client in [&with_token, &with_admin_key] {
        let mut me = client
            .query::<_, Option<String>>("users:me", json!({}))
            .subscribe();
        tokio::time::timeout(Duration::from_secs(10), me.next())
            .await
            .expect("a first value")
            .expect("the stream goes on")
            .unwrap();
    }
    let source = {
        let tokens = live_tokens.clone();
        let fetched = Arc::new(Mutex::new(0usize));
        LiveTokens::from_fn(move |_fresh| {
            let mut n = fetched.lock().unwrap();
            let token = tokens[(*n).min(1)].clone();
            *n += 1;
            async move { Ok(Token::new(token)) }
        })
    };
    let live = Client::builder(deployment.url())
        .live(LiveSettings::default().tokens(source))
        .build()
        .unwrap();
    let mut me = live
        .query::<_, Option<String>>("users:me", json!({}))
        .subscribe();
    let first = tokio::time::timeout(Duration::from_secs(10), me.next())
        .await
        .expect("a first value")
        .expect("the stream goes on")
        .unwrap();
    assert_eq!(first.as_deref(), Some("ada"));
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let sent = deployment
                .sync_messages()
                .iter()
                .filter(|m| m["type"] == "Authenticate")
                .map(|m| m["value"].as_str().unwrap_or_default().to_owned())
                .collect::<Vec<_>>();
            if sent.contains(&live_tokens[1]) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the socket re-authenticated with the second token");
    drop(me);

    let logs = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    // The capture holds what it must for the search to mean anything: this crate's spans, and tungstenite's
    // and the HTTP stack's own trace records.
    for expected in [
        "convex_call",
        "writing frame",
        "Sending frame",
        "live connection open",
    ] {
        assert!(logs.contains(expected), "no `{expected}` in the capture");
    }
    for secret in [TOKEN, ADMIN_KEY, &live_tokens[0], &live_tokens[1]] {
        for form in forms(secret) {
            if let Some(at) = logs.find(&form) {
                let line_start = logs[..at].rfind('\n').map_or(0, |i| i + 1);
                let line_end = logs[at..].find('\n').map_or(logs.len(), |i| at + i);
                panic!(
                    "the logs hold `{form}` (a form of a credential):\n{}",
                    &logs[line_start..line_end]
                );
            }
        }
    }
}
