//! The life of a live connection: the reconnect backoff grows on every failed attempt (a refused upgrade
//! included) and starts over only after a socket the deployment answered; a refusal for good reaches every
//! stream and pending socket call as a typed error while the reconnects go on; a connection with nothing
//! live closes after its idle grace and leaves the client, so that many short-lived credentials do not pile
//! up sockets and tasks.

use crate::support::{eventually, next_item as next};
use convex::value::Value;
use convex::{Client, ConnectionState, Error, ErrorKind, LiveProblem, LiveSettings};
use convex_fetch_testing::{Ctx, TestDeployment};
use futures_util::StreamExt;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A loopback server that answers the first `refusals` connections with `status` and a short body (every
/// connection if `refusals` is `usize::MAX`), then forwards the rest to `upstream` (if any). Returns its URL
/// and how many connections it refused.
async fn refusing_front(
    status: u16,
    refusals: usize,
    upstream: Option<String>,
) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let refused = Arc::new(AtomicUsize::new(0));
    let count = refused.clone();
    let upstream = upstream.map(|url| url.trim_start_matches("http://").to_owned());
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let upstream = upstream.clone();
            let count = count.clone();
            tokio::spawn(async move {
                if count.load(Ordering::SeqCst) < refusals {
                    count.fetch_add(1, Ordering::SeqCst);
                    // Reads the request head, then answers it and closes.
                    let mut head = Vec::new();
                    let mut buffer = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tcp.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buffer[..n]),
                        }
                    }
                    let body = format!("no sync endpoint here ({status})");
                    let answer = format!(
                        "HTTP/1.1 {status} Refused\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tcp.write_all(answer.as_bytes()).await;
                    let _ = tcp.shutdown().await;
                    return;
                }
                if let Some(upstream) = upstream
                    && let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await
                {
                    let _ = tokio::io::copy_bidirectional(&mut tcp, &mut server).await;
                }
            });
        }
    });
    (url, refused)
}

fn client(url: &str, settings: LiveSettings) -> Client {
    Client::builder(url).live(settings).build().unwrap()
}

/// The `Reconnecting` states seen until one reaches `attempts`.
async fn attempts_until(client: &Client, attempts: u32) -> Vec<(u32, Duration)> {
    let mut states = client.connection_state();
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if let ConnectionState::Reconnecting {
                attempt, retry_in, ..
            } = states.borrow_and_update().clone()
            {
                if seen.last().map(|(a, _)| *a) != Some(attempt) {
                    seen.push((attempt, retry_in));
                }
                if attempt >= attempts {
                    return;
                }
            }
            states.changed().await.unwrap();
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{attempts} attempts within 20 s; saw {seen:?}"));
    seen
}

/// The longest wait before attempt `attempt` under `initial` and `max`, as `LiveSettings` documents it.
fn ceiling(initial: Duration, max: Duration, attempt: u32) -> Duration {
    initial.saturating_mul(1 << (attempt - 1).min(31)).min(max)
}

async fn refused_upgrade_grows_the_backoff(status: u16) {
    let (url, refused) = refusing_front(status, usize::MAX, None).await;
    let (initial, max) = (Duration::from_millis(1), Duration::from_secs(10));
    let client = client(
        &url,
        LiveSettings::default()
            .initial_backoff(initial)
            .max_backoff(max),
    );
    let mut first = client
        .query::<_, Vec<String>>("posts:list", json!({}))
        .subscribe();
    let error = next(&mut first).await.unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Live { problem: LiveProblem::SocketRefused { status: s, .. }, .. } if s.as_u16() == status),
        "{error:?}"
    );
    let seen = attempts_until(&client, 9).await;
    // The count grows with every refused upgrade, never starting over, and each wait stays under the
    // ceiling of its attempt, which doubles.
    assert!(
        seen.windows(2).all(|w| w[0].0 < w[1].0),
        "attempts do not grow: {seen:?}"
    );
    for (attempt, retry_in) in &seen {
        assert!(
            *retry_in <= ceiling(initial, max, *attempt),
            "attempt {attempt} waits {retry_in:?}: {seen:?}"
        );
    }
    assert!(refused.load(Ordering::SeqCst) >= 8);
}

#[tokio::test]
async fn a_404_upgrade_grows_the_backoff_on_every_attempt() {
    refused_upgrade_grows_the_backoff(404).await;
}

#[tokio::test]
async fn a_401_upgrade_grows_the_backoff_on_every_attempt() {
    refused_upgrade_grows_the_backoff(401).await;
}

async fn deployment() -> TestDeployment {
    TestDeployment::builder()
        .query("posts:list", |_ctx: Ctx, _: Value| async move {
            Ok(vec!["hello".to_owned()])
        })
        .mutation(
            "posts:create",
            |_ctx: Ctx, _: Value| async move { Ok("id") },
        )
        .query("auth:whoami", |ctx: Ctx, _: Value| async move {
            Ok(ctx.identity().map(|i| i["subject"].clone()))
        })
        .start()
        .await
}

#[tokio::test]
async fn a_refused_socket_reaches_every_stream_and_call_and_the_stream_recovers_once_accepted() {
    let deployment = deployment().await;
    for status in [404u16, 403] {
        let (url, refused) = refusing_front(status, 3, Some(deployment.url().to_owned())).await;
        // Waits long enough that the refusal is seen before the socket is accepted.
        let client = client(
            &url,
            LiveSettings::default()
                .initial_backoff(Duration::from_millis(200))
                .max_backoff(Duration::from_millis(400)),
        );
        let mut first = client
            .query::<_, Vec<String>>("posts:list", json!({}))
            .subscribe();
        let mut second = client
            .query::<_, Vec<String>>("posts:list", json!({ "other": true }))
            .subscribe();
        let call = client
            .mutation::<_, String>("posts:create", json!({}))
            .over_socket();
        let (a, b, call) = tokio::join!(next(&mut first), next(&mut second), call);
        for error in [a.unwrap_err(), b.unwrap_err(), call.unwrap_err()] {
            match error.kind() {
                ErrorKind::Live {
                    problem:
                        LiveProblem::SocketRefused {
                            status: s, message, ..
                        },
                    ..
                } => {
                    assert_eq!(s.as_u16(), status);
                    assert!(message.contains("no sync endpoint"), "{message:?}");
                    // Nothing was sent: the call did not run.
                    assert!(error.provably_not_run());
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(deployment.executions("posts:create"), 0);
        // The reconnects go on, and the streams yield values once a socket is accepted.
        assert_eq!(next(&mut first).await.unwrap(), ["hello"]);
        assert_eq!(next(&mut second).await.unwrap(), ["hello"]);
        assert_eq!(refused.load(Ordering::SeqCst), 3);
    }
}

/// A sync server that answers every query set with a `FatalError`.
async fn fatal_server() -> String {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut socket) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                while let Some(Ok(message)) = socket.next().await {
                    let text = message.to_text().unwrap_or_default().to_owned();
                    if text.contains("ModifyQuerySet") {
                        let fatal = json!({ "type": "FatalError", "error": "Bad query set" });
                        let _ = socket.send(Message::text(fatal.to_string())).await;
                        let _ = socket.close(None).await;
                        return;
                    }
                }
            });
        }
    });
    url
}

#[tokio::test]
async fn a_fatal_error_fails_pending_socket_calls_instead_of_resending_them_forever() {
    let url = fatal_server().await;
    let client = client(
        &url,
        LiveSettings::default()
            .initial_backoff(Duration::from_millis(5))
            .max_backoff(Duration::from_millis(20)),
    );
    let mut posts = client
        .query::<_, Vec<String>>("posts:list", json!({}))
        .subscribe();
    let call = client
        .mutation::<_, String>("posts:create", json!({}))
        .timeout(Duration::from_secs(30))
        .over_socket();
    let (item, call) = tokio::join!(next(&mut posts), call);
    assert!(
        matches!(item.as_ref().map_err(Error::kind), Err(ErrorKind::Live { problem: LiveProblem::Fatal { message, .. }, .. }) if message == "Bad query set"),
        "{item:?}"
    );
    // Sent on the socket that failed, the mutation may have run; never sent, it did not. Either way it
    // ends with the connection's error, not the call's timeout.
    assert!(
        matches!(
            call.as_ref().map_err(Error::kind),
            Err(ErrorKind::Live {
                problem: LiveProblem::Fatal { .. } | LiveProblem::MayHaveRun,
                ..
            })
        ),
        "{call:?}"
    );
}

/// A deployment with `users` tokens, `token-{i}` for the subject `user_{i}`, and `auth:whoami`.
async fn deployment_of_users(users: usize) -> TestDeployment {
    let mut builder = TestDeployment::builder()
        .query("auth:whoami", |ctx: Ctx, _: Value| async move {
            Ok(ctx.identity().map(|i| i["subject"].clone()))
        });
    for i in 0..users {
        builder = builder.token(
            format!("token-{i}"),
            json!({ "subject": format!("user_{i}") }),
        );
    }
    builder.start().await
}

/// A hundred users at a time, each with a token of their own (one socket each), subscribe to `auth:whoami`,
/// see themselves, and drop the subscription.
async fn each_user_subscribes_and_drops(client: &Client, users: usize) {
    for batch in (0..users).collect::<Vec<_>>().chunks(100) {
        let firsts = batch.iter().map(|&i| {
            let client = client.clone();
            async move {
                let mut whoami = client
                    .query::<_, Option<String>>("auth:whoami", json!({}))
                    .auth(format!("token-{i}"))
                    .subscribe();
                let subject = next(&mut whoami).await.unwrap();
                assert_eq!(subject.as_deref(), Some(format!("user_{i}").as_str()));
            }
        });
        futures_util::future::join_all(firsts).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_credentials_each_subscribed_and_dropped_leave_no_socket_open() {
    const USERS: usize = 1_000;
    let deployment = deployment_of_users(USERS).await;
    let client = client(
        deployment.url(),
        LiveSettings::default().idle_timeout(Duration::from_millis(50)),
    );
    each_user_subscribes_and_drops(&client, USERS).await;
    assert_eq!(deployment.sync_connections_opened(), USERS as u64);
    // Every subscription is dropped: after the grace, every socket is closed and the client forgets them.
    eventually("every connection closed", || {
        client.live_connection_count() == 0 && deployment.sync_connections_open() == 0
    })
    .await;

    // A subscription afterwards opens a fresh connection, which works.
    let mut whoami = client
        .query::<_, Option<String>>("auth:whoami", json!({}))
        .auth("token-7")
        .subscribe();
    assert_eq!(next(&mut whoami).await.unwrap().as_deref(), Some("user_7"));
    assert_eq!(deployment.sync_connections_opened(), USERS as u64 + 1);
    assert_eq!(client.live_connection_count(), 1);
}

#[tokio::test]
async fn a_subscription_within_the_grace_keeps_the_socket_and_one_after_it_gets_a_fresh_one() {
    let deployment = deployment().await;
    let client = client(
        deployment.url(),
        LiveSettings::default().idle_timeout(Duration::from_secs(60)),
    );
    for _ in 0..3 {
        let mut posts = client
            .query::<_, Vec<String>>("posts:list", json!({}))
            .subscribe();
        assert_eq!(next(&mut posts).await.unwrap(), ["hello"]);
    }
    // Within the grace (60 s here), the one socket served all three.
    assert_eq!(deployment.sync_connections_opened(), 1);
    assert_eq!(client.live_connection_count(), 1);

    // With no grace at all, each subscription dropped closes the socket; the client's state channel
    // follows the connections that replace each other.
    let client = self::client(
        deployment.url(),
        LiveSettings::default().idle_timeout(Duration::ZERO),
    );
    let mut states = client.connection_state();
    for round in 0..3u64 {
        let mut posts = client
            .query::<_, Vec<String>>("posts:list", json!({}))
            .subscribe();
        assert_eq!(next(&mut posts).await.unwrap(), ["hello"]);
        assert_eq!(*states.borrow(), ConnectionState::Connected);
        drop(posts);
        eventually("the connection closed", || {
            client.live_connection_count() == 0
        })
        .await;
        tokio::time::timeout(
            Duration::from_secs(10),
            states.wait_for(|s| *s == ConnectionState::Idle),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(deployment.sync_connections_opened(), 2 + round);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_subscription_or_call_is_lost_to_a_connection_closing_at_that_moment() {
    let deployment = deployment().await;
    // Closing at once when idle: every new subscription races a connection that is closing.
    let client = client(
        deployment.url(),
        LiveSettings::default().idle_timeout(Duration::ZERO),
    );
    for _ in 0..200 {
        let mut posts = client
            .query::<_, Vec<String>>("posts:list", json!({}))
            .subscribe();
        assert_eq!(next(&mut posts).await.unwrap(), ["hello"]);
        drop(posts);
        let id: String = tokio::time::timeout(
            Duration::from_secs(10),
            client
                .mutation::<_, String>("posts:create", json!({}))
                .over_socket(),
        )
        .await
        .expect("the call is answered")
        .unwrap();
        assert_eq!(id, "id");
    }
    eventually("every connection closed", || {
        client.live_connection_count() == 0 && deployment.sync_connections_open() == 0
    })
    .await;
}

/// The resident set of this process, in MiB (Linux; 0 elsewhere).
fn rss_mib() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / (1 << 20) as f64
}

/// A measurement, not a check: rounds of 1,000 tokens each subscribed and dropped, printing the tasks of the
/// runtime, the client's connections, the deployment's open sockets and the RSS after each round has closed.
/// `cargo test -p convex-fetch-tests --test suite live_lifecycle::rounds -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run with --ignored --nocapture"]
async fn rounds_of_a_thousand_tokens_keep_tasks_sockets_and_memory_flat() {
    const USERS: usize = 1_000;
    let deployment = deployment_of_users(USERS).await;
    let client = client(
        deployment.url(),
        LiveSettings::default().idle_timeout(Duration::from_millis(100)),
    );
    let metrics = tokio::runtime::Handle::current().metrics();
    println!(
        "before: {} tasks, RSS {:.1} MiB",
        metrics.num_alive_tasks(),
        rss_mib()
    );
    for round in 1..=5 {
        each_user_subscribes_and_drops(&client, USERS).await;
        let peak_tasks = metrics.num_alive_tasks();
        eventually("every connection closed", || {
            client.live_connection_count() == 0 && deployment.sync_connections_open() == 0
        })
        .await;
        println!(
            "round {round}: {} tasks right after the round, {} once closed; {} connections, {} sockets open; RSS {:.1} MiB",
            peak_tasks,
            metrics.num_alive_tasks(),
            client.live_connection_count(),
            deployment.sync_connections_open(),
            rss_mib()
        );
    }
}
