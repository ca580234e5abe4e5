//! The live socket goes where the HTTP calls go: through the builder's proxy or the environment's
//! (`HTTP_PROXY`, `NO_PROXY`, … by reqwest's rules), in a `CONNECT` tunnel, and never around a proxy it cannot
//! use. The environment is process-wide, so each environment case runs in a child process of the suite.

use convex::{Client, Error, ErrorKind};
use convex_fetch_testing::{Ctx, TestDeployment};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy was asked: each request's first line, and whether it carried `Proxy-Authorization`.
type Seen = Arc<Mutex<Vec<(String, bool)>>>;

/// An HTTP proxy on 127.0.0.1 that tunnels `CONNECT`s and forwards absolute-form requests, recording each.
async fn proxy() -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Seen::default();
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(relay(client, record.clone()));
        }
    });
    (url, seen)
}

async fn relay(mut client: TcpStream, seen: Seen) {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        match client.read_u8().await {
            Ok(byte) => head.push(byte),
            Err(_) => return,
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let line = text.lines().next().unwrap_or("").to_owned();
    let authorized = text
        .to_ascii_lowercase()
        .contains("\r\nproxy-authorization: basic ");
    seen.lock().unwrap().push((line.clone(), authorized));
    let mut words = line.split(' ');
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let authority = if method == "CONNECT" {
        target.to_owned()
    } else {
        target
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or("")
            .to_owned()
    };
    let Ok(mut upstream) = TcpStream::connect(authority.as_str()).await else {
        return;
    };
    if method == "CONNECT" {
        if client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await
            .is_err()
        {
            return;
        }
    } else if upstream.write_all(&head).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

async fn deployment() -> TestDeployment {
    TestDeployment::builder()
        .query("users:me", |ctx: Ctx, _args: Value| async move {
            Ok(ctx.identity().map(|i| i["subject"].clone()))
        })
        .start()
        .await
}

/// A call over HTTP and a subscription's first value on `client`.
async fn call_and_subscribe(client: &Client) -> Result<(), Error> {
    let _: Option<String> = client.query("users:me", json!({})).await?;
    let mut me = client
        .query::<_, Option<String>>("users:me", json!({}))
        .subscribe();
    tokio::time::timeout(Duration::from_secs(10), me.next())
        .await
        .expect("a first value or an error")
        .expect("the stream goes on")?;
    Ok(())
}

fn host_port(url: &str) -> &str {
    url.trim_start_matches("http://")
}

#[tokio::test]
async fn the_builders_http_proxy_carries_the_socket_in_a_tunnel() {
    let deployment = deployment().await;
    let (proxy_url, seen) = proxy().await;
    let with_password = proxy_url.replace("http://", "http://proxy-user:proxy-pass@");
    let client = Client::builder(deployment.url())
        .proxy(&with_password)
        .build()
        .unwrap();
    call_and_subscribe(&client).await.unwrap();
    let target = host_port(deployment.url());
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.contains(&(format!("CONNECT {target} HTTP/1.1"), true)),
        "the socket's tunnel, with the proxy's credentials: {seen:?}"
    );
    assert!(
        seen.iter()
            .any(|(line, authorized)| line.starts_with("POST http://") && *authorized),
        "the HTTP call: {seen:?}"
    );
    assert_eq!(deployment.sync_connections_opened(), 1);
}

#[tokio::test]
async fn a_proxy_the_socket_cannot_use_refuses_live_calls() {
    let deployment = deployment().await;
    for proxy in ["socks5://127.0.0.1:9", "https://127.0.0.1:9"] {
        let client = Client::builder(deployment.url())
            .proxy(proxy)
            .build()
            .unwrap();
        let mut me = client
            .query::<_, Option<String>>("users:me", json!({}))
            .subscribe();
        let err = me.next().await.unwrap().unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Config { message, .. } if message.contains("never connects around")),
            "{proxy}: {err:?}"
        );
    }
    assert_eq!(deployment.sync_connections_opened(), 0);
}

/// The environment cases: what the child process is given, and what it does.
const CHILD: &str = "LIVE_PROXY_CHILD";

/// Runs `case` in a child process with `env` (every proxy variable of this process removed first).
fn child(case: &str, env: &[(&str, &str)]) {
    let mut command = crate::support::rerun(
        module_path!(),
        "environment_proxies_are_followed_by_the_socket",
    );
    command.arg("--test-threads=1").env(CHILD, case);
    for name in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "REQUEST_METHOD",
    ] {
        command
            .env_remove(name)
            .env_remove(name.to_ascii_lowercase());
    }
    command.envs(env.iter().copied());
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "child `{case}` failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// In a child: a call and a subscription on a client of `CONVEX_URL`, built after the environment is set.
async fn in_child(case: &str) {
    let client = Client::new(std::env::var("CONVEX_URL").unwrap()).unwrap();
    match case {
        "through" => call_and_subscribe(&client).await.unwrap(),
        "refused" => {
            let mut me = client
                .query::<_, Option<String>>("users:me", json!({}))
                .subscribe();
            let err = me.next().await.unwrap().unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::Config { message, .. } if message.contains("never connects around")),
                "{err:?}"
            );
        }
        other => panic!("no case {other}"),
    }
}

#[test]
fn environment_proxies_are_followed_by_the_socket() {
    if let Ok(case) = std::env::var(CHILD) {
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(in_child(&case));
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let deployment = deployment().await;
        let (proxy_url, seen) = proxy().await;
        let target = host_port(deployment.url()).to_owned();
        let url = deployment.url().to_owned();
        let take = || std::mem::take(&mut *seen.lock().unwrap());

        // HTTP_PROXY (and its lowercase form): the calls and the socket go through it.
        for name in ["HTTP_PROXY", "http_proxy", "ALL_PROXY"] {
            let (url, proxy_url) = (url.clone(), proxy_url.clone());
            tokio::task::spawn_blocking(move || {
                child("through", &[(name, &proxy_url), ("CONVEX_URL", &url)])
            })
            .await
            .unwrap();
            let seen = take();
            assert!(
                seen.iter()
                    .any(|(line, _)| *line == format!("CONNECT {target} HTTP/1.1")),
                "{name}: the socket's tunnel: {seen:?}"
            );
            assert!(
                seen.iter()
                    .any(|(line, _)| line.starts_with("POST http://")),
                "{name}: the HTTP call: {seen:?}"
            );
        }

        // NO_PROXY exempts the deployment: neither goes through the proxy.
        let before = deployment.sync_connections_opened();
        {
            let (url, proxy_url) = (url.clone(), proxy_url.clone());
            tokio::task::spawn_blocking(move || {
                child(
                    "through",
                    &[
                        ("HTTP_PROXY", &proxy_url),
                        ("NO_PROXY", "127.0.0.1"),
                        ("CONVEX_URL", &url),
                    ],
                )
            })
            .await
            .unwrap();
        }
        assert_eq!(take(), vec![], "NO_PROXY: nothing through the proxy");
        assert!(deployment.sync_connections_opened() > before);

        // A proxy the socket cannot tunnel through: live calls are refused, not made around it.
        let before = deployment.sync_connections_opened();
        tokio::task::spawn_blocking(move || {
            child(
                "refused",
                &[("HTTP_PROXY", "socks5://127.0.0.1:9"), ("CONVEX_URL", &url)],
            )
        })
        .await
        .unwrap();
        assert_eq!(deployment.sync_connections_opened(), before);
    });
}
