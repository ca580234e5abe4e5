//! Reliability under injected faults, against the test deployment: every failure ends in an error within the
//! call's deadline, a write is resent only when the failure proves it did not run, retries are bounded and
//! traced, and a dropped call leaves its client working.
//!
//! Timings are asserted only with generous bounds (a deadline plus seconds of slack); speed belongs in benches.

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::{Duration, Instant};

use convex::{Client, Error, ErrorKind, RetryPolicy, StatusCode};
use convex_fetch_testing::{Ctx, Fault, TestDeployment};
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::support::Logs;

/// What a deadline may be overshot by on a loaded machine.
const SLACK: Duration = Duration::from_secs(2);

async fn deployment() -> TestDeployment {
    TestDeployment::builder()
        .query("posts:list", |_ctx: Ctx, _args: Value| async move {
            Ok(json!(["Hello"]))
        })
        .mutation(
            "tasks:create",
            |_ctx: Ctx, args: Value| async move { Ok(args) },
        )
        .action("emails:send", |_ctx: Ctx, _args: Value| async move {
            Ok(json!("sent"))
        })
        .mutation("jobs:slow", |_ctx: Ctx, _args: Value| async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ok(json!("done"))
        })
        .start()
        .await
}

/// A client with the default policy (3 attempts) but short waits, so that tests stay fast.
fn fast_client(deployment: &TestDeployment) -> Client {
    Client::builder(deployment.url())
        .retry(RetryPolicy::default().base_delay(Duration::from_millis(10)))
        .build()
        .unwrap()
}

fn no_retry_client(url: &str) -> Client {
    Client::builder(url)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

/// Calls `path` as a function of `kind` on `client`, with an empty args object.
async fn call(client: &Client, kind: &str, path: &str) -> Result<Value, Error> {
    match kind {
        "query" => client.query(path, json!({})).await,
        "mutation" => client.mutation(path, json!({})).await,
        "action" => client.action(path, json!({})).await,
        other => unreachable!("{other}"),
    }
}

/// The writes of the deployment, by kind and path.
const WRITES: [(&str, &str); 2] = [("mutation", "tasks:create"), ("action", "emails:send")];

// The retry events are read from the suite's capture of `tracing` output.
impl Logs {
    /// The retry events: one per attempt after the first.
    fn retries(&self) -> Vec<String> {
        self.text()
            .lines()
            .filter(|line| line.contains("retrying convex call"))
            .map(str::to_owned)
            .collect()
    }
}

/// A port on 127.0.0.1 that nobody listens on: bound, then released.
fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[tokio::test]
async fn a_slow_server_times_out_within_the_deadline_for_every_kind() {
    let deployment = deployment().await;
    deployment.set_latency(Duration::from_secs(60));
    let timeout = Duration::from_millis(300);
    // The client's timeout, not a per-call one, and retries enabled: a timeout ends the call all the same.
    let client = Client::builder(deployment.url())
        .timeout(timeout)
        .retry(RetryPolicy::default().base_delay(Duration::from_millis(10)))
        .build()
        .unwrap();
    for (kind, path) in [
        ("query", "posts:list"),
        ("mutation", "tasks:create"),
        ("action", "emails:send"),
    ] {
        let started = Instant::now();
        let err = call(&client, kind, path).await.unwrap_err();
        let elapsed = started.elapsed();
        assert!(
            matches!(err.kind(), ErrorKind::Timeout { after, .. } if *after == timeout),
            "{kind}: {err:?}"
        );
        assert!(
            elapsed >= timeout && elapsed < timeout + SLACK,
            "{kind}: {elapsed:?}"
        );
        let shown = err.to_string();
        assert!(
            shown.contains(path) && shown.contains("timed out"),
            "{shown}"
        );
        assert!(!err.provably_not_run(), "a timed-out {kind} may have run");
        assert_eq!(err.status_code(), StatusCode::GATEWAY_TIMEOUT);
    }
}

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error_that_may_have_reached_the_deployment() {
    let deployment = deployment().await;
    deployment.fail_next(1, Fault::DropConnection);
    let err = call(&no_retry_client(deployment.url()), "query", "posts:list")
        .await
        .unwrap_err();
    let ErrorKind::Transport { sent, message, .. } = err.kind() else {
        panic!("expected a transport error, got {err:?}")
    };
    // The client cannot tell a drop before the function from one after it.
    assert!(*sent, "{message}");
    assert!(!err.provably_not_run());
    let shown = err.to_string();
    assert!(
        shown.contains("posts:list") && shown.contains("may have reached the deployment"),
        "{shown}"
    );
    assert_eq!(err.status_code(), StatusCode::BAD_GATEWAY);

    // A query survives a dropped connection by retrying; a write is not resent.
    let client = fast_client(&deployment);
    deployment.fail_next(1, Fault::DropConnection);
    assert_eq!(
        call(&client, "query", "posts:list").await.unwrap(),
        json!(["Hello"])
    );
    for (kind, path) in WRITES {
        deployment.clear_calls();
        deployment.fail_next(1, Fault::DropConnection);
        let err = call(&client, kind, path).await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Transport { sent: true, .. }),
            "{kind}: {err:?}"
        );
        assert_eq!(deployment.calls().len(), 1, "{kind} sent once");
        assert_eq!(deployment.executions(path), 0);
    }
}

#[tokio::test]
async fn a_query_succeeds_after_503s_and_the_retries_are_traced() {
    let (logs, _guard) = Logs::capture();
    let deployment = deployment().await;
    let client = fast_client(&deployment);
    deployment.fail_next(2, Fault::system(503, "ExpiredInQueue", "try again later"));
    let posts = call(&client, "query", "posts:list").await.unwrap();
    assert_eq!(posts, json!(["Hello"]));
    assert_eq!(deployment.calls().len(), 3, "two refusals, then the answer");
    assert_eq!(deployment.executions("posts:list"), 1);

    let retries = logs.retries();
    assert_eq!(retries.len(), 2, "{}", logs.text());
    for (line, attempt) in retries.iter().zip(1..) {
        assert!(line.contains(&format!("attempt={attempt}")), "{line}");
        assert!(line.contains("delay_ms="), "{line}");
        assert!(
            line.contains("503") && line.contains("ExpiredInQueue") && line.contains("posts:list"),
            "the retry says why: {line}"
        );
    }
    assert!(
        logs.text().contains(r#"outcome="success""#),
        "{}",
        logs.text()
    );
}

#[tokio::test]
async fn a_write_is_not_resent_after_a_failure_that_does_not_prove_it_did_not_run() {
    let (logs, _guard) = Logs::capture();
    let deployment = deployment().await;
    let client = fast_client(&deployment);
    let faults = [
        Fault::system(
            500,
            "InternalServerError",
            "Your request couldn't be completed",
        ),
        Fault::system(503, "InternalServerError", "unavailable"),
        Fault::status_json(503, json!({})),
        Fault::html(503, "<html><body>503 Service Unavailable</body></html>"),
        Fault::html(502, "<html><body>Bad Gateway</body></html>"),
        Fault::system(504, "GatewayTimeout", "upstream timed out"),
        Fault::system(408, "ClientDisconnect", "client disconnected"),
    ];
    for fault in &faults {
        for (kind, path) in WRITES {
            deployment.clear_calls();
            deployment.fail_next(1, fault.clone());
            let err = call(&client, kind, path).await.unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::Server { .. }),
                "{kind} {fault:?}: {err:?}"
            );
            assert!(!err.provably_not_run(), "{kind} {fault:?}");
            assert!(err.to_string().contains(path), "{err}");
            assert_eq!(
                deployment.calls().len(),
                1,
                "{kind} {fault:?}: sent exactly once"
            );
            assert_eq!(deployment.pending_faults(), 0);
        }
    }
    assert!(logs.retries().is_empty(), "{}", logs.text());
    // The writes were never run by a fault; one more call runs each exactly once.
    for (kind, path) in WRITES {
        deployment.clear_calls();
        call(&client, kind, path).await.unwrap();
        assert_eq!(deployment.executions(path), 1, "{kind}");
    }

    // A query is read-only: 502/503/504 are retried, but a 500 is not transient and is not.
    for (fault, retried) in [(&faults[0], false), (&faults[3], true), (&faults[5], true)] {
        deployment.clear_calls();
        deployment.fail_next(1, fault.clone());
        let result = call(&client, "query", "posts:list").await;
        assert_eq!(result.is_ok(), retried, "{fault:?}: {result:?}");
        assert_eq!(deployment.calls().len(), 1 + usize::from(retried));
    }
}

#[tokio::test]
async fn a_write_refused_with_a_not_committed_code_is_retried_and_runs_once() {
    let deployment = deployment().await;
    let client = fast_client(&deployment);
    // The codes the backend sends when a function never started or its commit was refused.
    let not_run = [
        (503, "ExpiredInQueue"),
        (503, "WorkerOverloaded"),
        (503, "ExecuteFullError"),
        (503, "InitialPermitTimeoutError"),
        (503, "IsolateNotClean"),
        (503, "UpstreamConnectError"),
        (503, "OptimisticConcurrencyControlFailure"),
        (503, "CommitterFullError"),
        (503, "DatabaseIndexTooLarge"),
        (503, "SearchIndexTooLarge"),
        (429, "TooManyConcurrentRequests"),
        (429, "TooManyWrites"),
    ];
    for (status, code) in not_run {
        for (kind, path) in WRITES {
            deployment.clear_calls();
            deployment.fail_next(1, Fault::system(status, code, "refused"));
            call(&client, kind, path)
                .await
                .unwrap_or_else(|e| panic!("{kind} {status} {code}: {e:?}"));
            assert_eq!(deployment.calls().len(), 2, "{kind} {status} {code}");
            assert_eq!(deployment.executions(path), 1, "{kind} {status} {code}");
        }
    }
    // Category names no deployment sends, and codes that leave the outcome unknown: a write is not retried.
    let unknown = [
        (503, "Overloaded"),
        (503, "RejectedBeforeExecution"),
        (503, "InternalServerError"),
        (503, "Busy"),
        (503, "SubscriptionsWorkerFullError"),
        (503, "IndexTooLarge"),
        (503, ""),
        (429, "RateLimited"),
        (429, ""),
    ];
    for (status, code) in unknown {
        for (kind, path) in WRITES {
            deployment.clear_calls();
            deployment.fail_next(1, Fault::system(status, code, "refused"));
            let err = call(&client, kind, path).await.unwrap_err();
            assert!(!err.provably_not_run(), "{kind} {status} {code}");
            assert_eq!(
                deployment.calls().len(),
                1,
                "{kind} {status} {code}: not resent"
            );
        }
    }
    let faults = [Fault::system(
        503,
        "OptimisticConcurrencyControlFailure",
        "Data read or written in this mutation changed while it was being run.",
    )];

    // Retries are bounded by the attempts: with three, three conflicts in a row fail the call.
    deployment.clear_calls();
    deployment.fail_next(3, faults[0].clone());
    let err = call(&client, "mutation", "tasks:create").await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Server { status, code, .. }
            if *status == StatusCode::SERVICE_UNAVAILABLE && code == "OptimisticConcurrencyControlFailure"),
        "{err:?}"
    );
    assert!(err.provably_not_run());
    assert_eq!(deployment.calls().len(), 3);
    assert_eq!(deployment.executions("tasks:create"), 0);
}

#[tokio::test]
async fn an_answer_lost_after_the_write_ran_is_an_error_that_says_it_may_have_run() {
    let deployment = deployment().await;
    let client = fast_client(&deployment);
    for (kind, path) in WRITES {
        deployment.clear_calls();
        deployment.fail_next(1, Fault::DropAfterRun);
        let err = call(&client, kind, path).await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Transport { sent: true, .. }),
            "{kind}: {err:?}"
        );
        assert!(!err.provably_not_run(), "{kind}");
        let shown = err.to_string();
        assert!(
            shown.contains(path) && shown.contains("(the request may have reached the deployment)"),
            "{shown}"
        );
        assert_eq!(deployment.executions(path), 1, "{kind} ran exactly once");
        assert_eq!(deployment.calls().len(), 1, "{kind} was not resent");
    }
    // A query is read-only, so it is simply run again.
    deployment.clear_calls();
    deployment.fail_next(1, Fault::DropAfterRun);
    assert_eq!(
        call(&client, "query", "posts:list").await.unwrap(),
        json!(["Hello"])
    );
    assert_eq!(deployment.executions("posts:list"), 2);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let deployment = deployment().await;
    let client = fast_client(&deployment);
    let limited = Fault::system(429, "TooManyConcurrentRequests", "slow down")
        .with_header("Retry-After", "1");
    // Both calls are refused once; their retries wait the second the deployment asked for, not 10 ms.
    deployment.fail_next(2, limited);
    let timed = |kind: &'static str, path: &'static str| {
        let client = client.clone();
        async move {
            let started = Instant::now();
            let result = call(&client, kind, path).await;
            (result, started.elapsed())
        }
    };
    let ((query, query_took), (mutation, mutation_took)) = tokio::join!(
        timed("query", "posts:list"),
        timed("mutation", "tasks:create")
    );
    query.unwrap();
    mutation.unwrap();
    for took in [query_took, mutation_took] {
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_secs(5),
            "{took:?}"
        );
    }
    assert_eq!(deployment.calls().len(), 4);
    assert_eq!(deployment.executions("tasks:create"), 1);
}

#[tokio::test]
async fn retry_after_is_capped_and_never_outlasts_the_deadline() {
    let deployment = deployment().await;

    // A wait longer than the policy's `max_delay` is cut to it: far less than the 30 s asked for.
    let capped = Client::builder(deployment.url())
        .retry(RetryPolicy::default().max_delay(Duration::from_millis(100)))
        .build()
        .unwrap();
    deployment.fail_next(
        1,
        Fault::system(503, "ExpiredInQueue", "busy").with_header("Retry-After", "30"),
    );
    let started = Instant::now();
    call(&capped, "query", "posts:list").await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));

    // A wait that would end past the call's deadline is not started: the call fails at once with the
    // deployment's answer rather than a timeout.
    let client = fast_client(&deployment);
    deployment.fail_next(
        1,
        Fault::system(429, "RateLimited", "slow down").with_header("Retry-After", "3"),
    );
    let started = Instant::now();
    let err = client
        .query::<_, Value>("posts:list", json!({}))
        .timeout(Duration::from_millis(500))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Server { status, .. } if *status == StatusCode::TOO_MANY_REQUESTS),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_millis(500) + SLACK);

    // A preposterous `Retry-After` with no cap on waits, and a call with no time limit, fail or succeed
    // without overflowing a clock.
    let uncapped = Client::builder(deployment.url())
        .retry(RetryPolicy::default().max_delay(Duration::MAX))
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    deployment.fail_next(
        1,
        Fault::system(429, "RateLimited", "later").with_header("Retry-After", u64::MAX.to_string()),
    );
    let err = call(&uncapped, "query", "posts:list").await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Server { .. }), "{err:?}");
    let posts: Value = client
        .query("posts:list", json!({}))
        .timeout(Duration::MAX)
        .await
        .unwrap();
    assert_eq!(posts, json!(["Hello"]));
}

#[tokio::test]
async fn a_refused_connection_is_retried_even_for_writes_because_nothing_was_sent() {
    let (logs, _guard) = Logs::capture();
    let url = refused_url();
    let client = Client::builder(&url)
        .retry(
            RetryPolicy::default()
                .max_attempts(4)
                .base_delay(Duration::from_millis(5)),
        )
        .build()
        .unwrap();
    for (kind, path) in [
        ("mutation", "tasks:create"),
        ("action", "emails:send"),
        ("query", "posts:list"),
    ] {
        logs.clear();
        let err = call(&client, kind, path).await.unwrap_err();
        let ErrorKind::Transport { sent, .. } = err.kind() else {
            panic!("{kind}: expected a transport error, got {err:?}")
        };
        assert!(!sent, "{kind}: a refused connection sent nothing");
        assert!(err.provably_not_run(), "{kind}");
        let shown = err.to_string();
        assert!(
            shown.contains(path) && !shown.contains("may have reached"),
            "{shown}"
        );
        // RetryPolicy: "a mutation or an action is retried only when … the connection failed before the
        // request was sent": all four attempts are made.
        assert_eq!(logs.retries().len(), 3, "{kind}: {}", logs.text());
    }

    // With no retries, one attempt.
    logs.clear();
    let err = call(&no_retry_client(&url), "mutation", "tasks:create")
        .await
        .unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::Transport { sent: false, .. }
    ));
    assert!(logs.retries().is_empty(), "{}", logs.text());
}

#[tokio::test]
async fn retries_stop_at_the_deadline_however_many_attempts_are_allowed() {
    let (logs, _guard) = Logs::capture();
    let timeout = Duration::from_millis(400);
    let endless = RetryPolicy::default()
        .max_attempts(u32::MAX)
        .base_delay(Duration::from_millis(20))
        .max_delay(Duration::from_millis(20));

    // Against a refused port: every attempt fails at once, so only the deadline stops them.
    let client = Client::builder(refused_url())
        .retry(endless)
        .timeout(timeout)
        .build()
        .unwrap();
    let started = Instant::now();
    let err = call(&client, "mutation", "tasks:create").await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Transport { sent: false, .. } | ErrorKind::Timeout { .. }
        ),
        "{err:?}"
    );
    assert!(elapsed < timeout + SLACK, "{elapsed:?}");
    // Waits are at least 10 ms (20 ms, jittered down to half at most): at most 40 fit in 400 ms.
    let retries = logs.retries().len();
    assert!((1..=40).contains(&retries), "{retries} retries");

    // Against an overloaded deployment: the same.
    logs.clear();
    let deployment = deployment().await;
    deployment.fail_next(1000, Fault::system(503, "ExpiredInQueue", "busy"));
    let client = Client::builder(deployment.url())
        .retry(endless)
        .timeout(timeout)
        .build()
        .unwrap();
    let started = Instant::now();
    let err = call(&client, "query", "posts:list").await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Server { status, .. } if *status == StatusCode::SERVICE_UNAVAILABLE)
            || matches!(err.kind(), ErrorKind::Timeout { .. }),
        "{err:?}"
    );
    assert!(started.elapsed() < timeout + SLACK);
    let retries = logs.retries().len();
    assert!((1..=40).contains(&retries), "{retries} retries");
    // Each retry was announced before its wait; the deadline may fall in the last wait, before its attempt.
    let attempts = deployment.calls().len();
    assert!(
        attempts == retries + 1 || attempts == retries,
        "{attempts} attempts, {retries} retries"
    );
    assert_eq!(deployment.executions("posts:list"), 0);
}

/// How many file descriptors this process has open (sockets of the client and the deployment included).
fn open_fds() -> Option<usize> {
    std::fs::read_dir("/proc/self/fd").ok().map(Iterator::count)
}

/// Waits up to 10 s for the open descriptors to fall back to about `baseline`; returns the last count.
async fn settle_fds(baseline: Option<usize>) -> Option<usize> {
    let baseline = baseline?;
    let give_up = Instant::now() + Duration::from_secs(10);
    loop {
        let now = open_fds()?;
        // Other tests of this binary run alongside and hold a few sockets of their own.
        if now <= baseline + 60 || Instant::now() > give_up {
            return Some(now);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn calls_dropped_while_the_function_runs_leave_the_client_working() {
    let started = Arc::new(Notify::new());
    let signal = started.clone();
    let deployment = TestDeployment::builder()
        .mutation("jobs:slow", move |_ctx: Ctx, _args: Value| {
            let signal = signal.clone();
            async move {
                signal.notify_one();
                tokio::time::sleep(Duration::from_secs(1)).await;
                Ok(json!("done"))
            }
        })
        .query("posts:list", |_ctx: Ctx, _args: Value| async move {
            Ok(json!(["Hello"]))
        })
        .start()
        .await;
    let client = deployment.client();
    let baseline = open_fds();
    const DROPS: usize = 200;
    for i in 0..DROPS {
        let call = client
            .mutation::<_, Value>("jobs:slow", json!({ "i": i }))
            .into_future();
        // Drop the call as soon as its function has started: mid-flight, with the answer still to come.
        tokio::select! {
            result = call => panic!("the call finished before it was dropped: {result:?}"),
            () = started.notified() => {}
        }
    }
    // Each dropped mutation ran once: dropping never resends.
    assert_eq!(deployment.executions("jobs:slow"), DROPS);
    assert_eq!(deployment.calls().len(), DROPS);

    // The same client goes on working.
    let posts: Value = client.query("posts:list", json!({})).await.unwrap();
    assert_eq!(posts, json!(["Hello"]));

    // Once the abandoned functions finish, their connections close: nothing piles up.
    if let (Some(before), Some(after)) = (baseline, settle_fds(baseline).await) {
        assert!(
            after <= before + 60,
            "open descriptors grew from {before} to {after}"
        );
    } else {
        eprintln!("descriptor check skipped: /proc/self/fd exists on Linux only");
    }
    let posts: Value = client.query("posts:list", json!({})).await.unwrap();
    assert_eq!(posts, json!(["Hello"]));
}

#[tokio::test]
async fn calls_timed_out_by_the_caller_leave_the_client_working() {
    let deployment = deployment().await;
    let client = deployment.client();
    let baseline = open_fds();
    const DROPS: usize = 200;
    for _ in 0..DROPS {
        // The function takes a second; the caller gives up long before.
        let call = client.mutation::<_, Value>("jobs:slow", json!({}));
        let outcome = tokio::time::timeout(Duration::from_millis(50), call).await;
        assert!(outcome.is_err(), "{outcome:?}");
    }

    // The same client goes on working, at once: abandoned calls hold nothing it needs.
    let started = Instant::now();
    let posts: Value = client.query("posts:list", json!({})).await.unwrap();
    assert_eq!(posts, json!(["Hello"]));
    assert!(started.elapsed() < SLACK);

    // The abandoned requests finish on the deployment's side; none is sent twice.
    if let (Some(before), Some(after)) = (baseline, settle_fds(baseline).await) {
        assert!(
            after <= before + 60,
            "open descriptors grew from {before} to {after}"
        );
    } else {
        eprintln!("descriptor check skipped: /proc/self/fd exists on Linux only");
    }
    let recorded = deployment
        .calls()
        .iter()
        .filter(|c| c.path == "jobs:slow")
        .count();
    // Most reach the deployment within 50 ms; every one that did ran exactly once, and none was resent.
    assert!((DROPS / 2..=DROPS).contains(&recorded), "{recorded}");
    assert_eq!(deployment.executions("jobs:slow"), recorded);
    let echoed: Value = client
        .mutation("tasks:create", json!({ "n": 1 }))
        .await
        .unwrap();
    assert_eq!(echoed, json!({ "n": 1 }));
}
