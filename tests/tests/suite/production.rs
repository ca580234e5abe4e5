//! What a service in production configures: its own TLS roots, a proxy, its own reqwest client, and a cap on
//! the calls in flight. Over real sockets.

use convex::{Client, ErrorKind, FunctionKind};
use convex_fetch_testing::{Ctx, TestDeployment};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::tls_front;

async fn status_deployment() -> TestDeployment {
    TestDeployment::builder()
        .query(
            "status:get",
            |_ctx: Ctx, _args: Value| async move { Ok("ok") },
        )
        .start()
        .await
}

#[tokio::test]
async fn a_private_ca_is_refused_by_default_and_trusted_once_added() {
    let deployment = status_deployment().await;
    let (url, ca) = tls_front(deployment.url()).await;

    let err = Client::new(&url)
        .unwrap()
        .query::<_, String>("status:get", json!({}))
        .await
        .unwrap_err();
    let ErrorKind::Transport { message, .. } = err.kind() else {
        panic!("{err:?}")
    };
    assert!(message.to_lowercase().contains("certificate"), "{message}");
    assert!(err.provably_not_run(), "a refused handshake sends nothing");
    assert!(deployment.calls().is_empty());

    for client in [
        Client::builder(&url).add_root_certificate_pem(ca.as_bytes()),
        Client::builder(&url)
            .built_in_root_certificates(false)
            .add_root_certificate_pem(ca.as_bytes()),
    ] {
        let status: String = client
            .build()
            .unwrap()
            .query("status:get", json!({}))
            .await
            .unwrap();
        assert_eq!(status, "ok");
    }
    assert_eq!(deployment.executions("status:get"), 2);
}

#[tokio::test]
async fn an_unreadable_certificate_is_a_config_error() {
    let err = Client::builder("https://a.convex.cloud")
        .add_root_certificate_pem(b"not a certificate")
        .build()
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Config { message, .. } if message.contains("no readable certificate")),
        "{err:?}"
    );
}

#[tokio::test]
async fn requests_go_through_the_proxy() {
    // The test deployment plays the proxy: a proxied request names the whole URL, which it serves by path,
    // while the deployment's own host does not even resolve.
    let proxy = status_deployment().await;
    let client = Client::builder("http://deployment.invalid")
        .proxy(proxy.url())
        .build()
        .unwrap();
    let status: String = client.query("status:get", json!({})).await.unwrap();
    assert_eq!(status, "ok");
    assert_eq!(proxy.executions("status:get"), 1);
}

#[test]
fn a_proxy_password_stays_out_of_debug_and_errors() {
    let builder =
        Client::builder("https://a.convex.cloud").proxy("http://me:hunter2@proxy.corp:3128");
    let shown = format!("{builder:?}");
    assert!(
        !shown.contains("hunter2") && shown.contains("proxy.corp"),
        "{shown}"
    );

    let err = Client::builder("https://a.convex.cloud")
        .proxy("http://me:hunter2@[::1")
        .build()
        .unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(matches!(err.kind(), ErrorKind::Config { .. }), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[tokio::test]
async fn the_applications_own_reqwest_client_is_used_as_it_is() {
    let deployment = status_deployment().await;
    let http = convex::reqwest::Client::builder()
        .user_agent("my-service/1.0")
        .redirect(convex::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let client = Client::builder(deployment.url())
        .http_client(http.clone())
        .build()
        .unwrap();
    let status: String = client.query("status:get", json!({})).await.unwrap();
    assert_eq!(status, "ok");

    // A connection setting the given client would not apply is refused, before or after it.
    for builder in [
        Client::builder(deployment.url())
            .http_client(http.clone())
            .user_agent("x"),
        Client::builder(deployment.url())
            .connect_timeout(Duration::from_secs(1))
            .http_client(http.clone()),
    ] {
        let err = builder.build().unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Config { message, .. } if message.contains("cannot be combined with `http_client`")),
            "{err:?}"
        );
    }
}

/// A deployment whose `jobs:run` and `jobs:act` record how many of them run at once.
struct Gauge {
    now: AtomicUsize,
    max: AtomicUsize,
}

impl Gauge {
    fn new() -> Arc<Gauge> {
        Arc::new(Gauge {
            now: AtomicUsize::new(0),
            max: AtomicUsize::new(0),
        })
    }

    async fn hold(&self, time: Duration) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(time).await;
        self.now.fetch_sub(1, Ordering::SeqCst);
    }

    fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }
}

async fn gauged(queries: Arc<Gauge>, actions: Arc<Gauge>) -> TestDeployment {
    TestDeployment::builder()
        .query("jobs:run", move |_ctx: Ctx, _args: Value| {
            let gauge = queries.clone();
            async move {
                gauge.hold(Duration::from_millis(2)).await;
                Ok(())
            }
        })
        .action("jobs:act", move |_ctx: Ctx, _args: Value| {
            let gauge = actions.clone();
            async move {
                gauge.hold(Duration::from_millis(20)).await;
                Ok(())
            }
        })
        .start()
        .await
}

async fn run_all(client: &Client, path: &'static str, kind: FunctionKind, n: usize) {
    let calls = (0..n).map(|_| {
        let client = client.clone();
        tokio::spawn(async move {
            match kind {
                FunctionKind::Action => client.action::<_, ()>(path, json!({})).await,
                _ => client.query::<_, ()>(path, json!({})).await,
            }
        })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_more_calls_than_the_cap_are_ever_in_flight() {
    const CAP: usize = 8;
    let (gauge, unused) = (Gauge::new(), Gauge::new());
    let deployment = gauged(gauge.clone(), unused).await;
    let capped = Client::builder(deployment.url())
        .max_in_flight(CAP)
        .build()
        .unwrap();
    run_all(&capped, "jobs:run", FunctionKind::Query, 1000).await;
    assert_eq!(
        deployment.executions("jobs:run"),
        1000,
        "none lost, none doubled"
    );
    assert!(gauge.max() <= CAP, "{} in flight", gauge.max());
    assert!(gauge.max() > 1, "the calls overlapped");

    // The same calls without the cap overlap beyond it: the gauge can see a breach.
    let free = Gauge::new();
    let deployment = gauged(free.clone(), Gauge::new()).await;
    run_all(&deployment.client(), "jobs:run", FunctionKind::Query, 200).await;
    assert!(free.max() > CAP, "{} in flight without a cap", free.max());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_can_have_fewer_slots_than_the_client() {
    let (queries, actions) = (Gauge::new(), Gauge::new());
    let deployment = gauged(queries.clone(), actions.clone()).await;
    let client = Client::builder(deployment.url())
        .max_in_flight(16)
        .max_in_flight_of(FunctionKind::Action, 2)
        .build()
        .unwrap();
    let (a, q) = tokio::join!(
        run_all(&client, "jobs:act", FunctionKind::Action, 20),
        run_all(&client, "jobs:run", FunctionKind::Query, 200),
    );
    let ((), ()) = (a, q);
    assert!(actions.max() <= 2, "{} actions at once", actions.max());
    assert!(queries.max() <= 16, "{} queries at once", queries.max());
    assert_eq!(deployment.executions("jobs:act"), 20);
    assert_eq!(deployment.executions("jobs:run"), 200);
}

#[tokio::test]
async fn waiting_for_a_slot_counts_against_the_deadline_and_runs_nothing() {
    let deployment = TestDeployment::builder()
        .query("jobs:slow", |_ctx: Ctx, _args: Value| async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            Ok(())
        })
        .mutation(
            "jobs:write",
            |_ctx: Ctx, _args: Value| async move { Ok(()) },
        )
        .start()
        .await;
    let client = Client::builder(deployment.url())
        .max_in_flight(1)
        .build()
        .unwrap();
    let slow = tokio::spawn({
        let client = client.clone();
        async move { client.query::<_, ()>("jobs:slow", json!({})).await }
    });
    while deployment.executions("jobs:slow") == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let err = client
        .mutation::<_, ()>("jobs:write", json!({}))
        .timeout(Duration::from_millis(50))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Timeout { sent: false, .. }),
        "{err:?}"
    );
    assert!(err.provably_not_run(), "it never left the client");
    slow.await.unwrap().unwrap();
    assert_eq!(deployment.executions("jobs:write"), 0);

    // Once the slot is free the same mutation goes through.
    client
        .mutation::<_, ()>("jobs:write", json!({}))
        .await
        .unwrap();
    assert_eq!(deployment.executions("jobs:write"), 1);
}

#[test]
fn a_cap_of_zero_is_a_config_error() {
    for builder in [
        Client::builder("https://a.convex.cloud").max_in_flight(0),
        Client::builder("https://a.convex.cloud").max_in_flight_of(FunctionKind::Mutation, 0),
    ] {
        let err = builder.build().unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Config { message, .. } if message.contains("at least 1")),
            "{err:?}"
        );
    }
}

async fn run_in_order(client: &Client, n: usize) {
    // Spawned one after another on a one-thread runtime, the mutations are first polled in this order.
    let calls: Vec<_> = (0..n)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .mutation::<_, ()>("log:append", json!({ "i": i }))
                    .await
            })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "current_thread")]
async fn ordered_mutations_run_one_at_a_time_in_call_order() {
    let started = Arc::new(std::sync::Mutex::new(Vec::new()));
    let gauge = Gauge::new();
    let deployment = TestDeployment::builder()
        .mutation("log:append", {
            let (started, gauge) = (started.clone(), gauge.clone());
            move |_ctx: Ctx, args: Value| {
                let (started, gauge) = (started.clone(), gauge.clone());
                async move {
                    let i = args["i"].as_u64().unwrap();
                    started.lock().unwrap().push(i);
                    // Later mutations finish sooner, so that concurrent ones would land out of order.
                    gauge.hold(Duration::from_millis(5 - i % 5)).await;
                    Ok(())
                }
            }
        })
        .start()
        .await;
    let ordered = Client::builder(deployment.url())
        .ordered_mutations()
        .build()
        .unwrap();
    run_in_order(&ordered, 40).await;
    assert_eq!(*started.lock().unwrap(), (0..40).collect::<Vec<u64>>());
    assert_eq!(gauge.max(), 1);

    // By default they overlap.
    run_in_order(&deployment.client(), 40).await;
    assert!(gauge.max() > 1);
}
