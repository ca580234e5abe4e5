//! How the test deployment commits, as the backend does: a mutation's timestamp is taken at its commit, not
//! before its handler runs, so a mutation that awaits before writing while another commits still reaches
//! every subscriber, over HTTP and over the socket; `MutationResponse.ts` is the mutation's own commit;
//! `ModifyQuerySet`s received while an update runs are folded into the next Transition; base versions are
//! checked with the backend's errors; and a socket mutation is deduplicated from the moment it starts, so a
//! socket dropped while it runs cannot make its re-send run it again.

use base64::Engine as _;
use convex::value::Value;
use convex::{Client, ConnectionState, Error, LiveSettings};
use convex_fetch_testing::{Ctx, TestDeployment};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

use crate::support::{Messages, eventually, message_board};

/// Closed until the test opens it; once open, it stays open.
#[derive(Clone)]
struct Gate(Arc<Semaphore>);

impl Gate {
    fn new() -> Gate {
        Gate(Arc::new(Semaphore::new(0)))
    }

    fn open(&self) {
        self.0.add_permits(1);
    }

    async fn pass(&self) {
        // The permit goes back when dropped: every later pass goes through too.
        drop(self.0.acquire().await);
    }
}

/// `messages:slow` waits at `gate` before writing; `messages:send` writes at once; `messages:gatedList`
/// waits at `query_gate` before reading.
async fn deployment(gate: &Gate, query_gate: &Gate) -> TestDeployment {
    let (gate, query_gate) = (gate.clone(), query_gate.clone());
    message_board()
        .query("messages:gatedList", move |ctx: Ctx, _: Value| {
            let gate = query_gate.clone();
            async move {
                gate.pass().await;
                Ok(ctx.state::<Messages>()?.0.clone())
            }
        })
        .mutation("messages:slow", move |ctx: Ctx, args: serde_json::Value| {
            let gate = gate.clone();
            async move {
                gate.pass().await;
                let body = args["body"].as_str().unwrap_or_default().to_owned();
                ctx.state::<Messages>()?.0.push(body.clone());
                Ok(body)
            }
        })
        .start()
        .await
}

fn client(deployment: &TestDeployment) -> Client {
    Client::builder(deployment.url())
        .live(
            LiveSettings::default()
                .initial_backoff(Duration::from_millis(20))
                .max_backoff(Duration::from_millis(100)),
        )
        .build()
        .unwrap()
}

async fn next<T: std::fmt::Debug>(
    stream: &mut (impl futures_util::Stream<Item = Result<T, Error>> + Unpin),
) -> T {
    crate::support::next_item(stream).await.unwrap()
}

/// The client messages of `kind` the deployment received, over every socket.
fn received(deployment: &TestDeployment, kind: &str) -> Vec<serde_json::Value> {
    deployment
        .sync_messages()
        .into_iter()
        .filter(|m| m["type"] == kind)
        .collect()
}

/// Starts `messages:slow` (over HTTP, or over its own client's socket) and returns once its handler waits
/// at the gate.
async fn start_slow(
    deployment: &TestDeployment,
    over_socket: bool,
) -> tokio::task::JoinHandle<String> {
    let client = client(deployment);
    let call = tokio::spawn(async move {
        let call = client.mutation::<_, String>("messages:slow", json!({ "body": "slow" }));
        if over_socket {
            call.over_socket().await.unwrap()
        } else {
            call.await.unwrap()
        }
    });
    eventually("the slow mutation runs", || {
        deployment.executions("messages:slow") == 1
    })
    .await;
    call
}

async fn send(client: &Client, body: &str, over_socket: bool) {
    let call = client.mutation::<_, String>("messages:send", json!({ "body": body }));
    let sent = if over_socket {
        call.over_socket().await
    } else {
        call.await
    };
    assert_eq!(sent.unwrap(), body);
}

#[tokio::test]
async fn a_mutation_committing_after_a_faster_one_reaches_every_subscriber_over_http_and_the_socket()
 {
    for over_socket in [false, true] {
        let (gate, query_gate) = (Gate::new(), Gate::new());
        query_gate.open();
        let deployment = deployment(&gate, &query_gate).await;
        let watcher = client(&deployment);
        let mut posts = watcher
            .query::<_, Vec<String>>("messages:list", json!({}))
            .subscribe();
        assert!(next(&mut posts).await.is_empty());
        let slow = start_slow(&deployment, over_socket).await;
        // Another mutation commits while the slow one waits before writing.
        send(&client(&deployment), "fast", over_socket).await;
        assert_eq!(next(&mut posts).await, ["fast"], "socket: {over_socket}");
        gate.open();
        assert_eq!(slow.await.unwrap(), "slow");
        // The slow one's commit comes after the fast one's: subscribers see it.
        assert_eq!(
            next(&mut posts).await,
            ["fast", "slow"],
            "socket: {over_socket}"
        );
        assert_eq!(deployment.state::<Messages>().unwrap().0, ["fast", "slow"]);
    }
}

#[tokio::test]
async fn a_subscription_added_while_a_mutation_runs_sees_its_commit() {
    for over_socket in [false, true] {
        let (gate, query_gate) = (Gate::new(), Gate::new());
        query_gate.open();
        let deployment = deployment(&gate, &query_gate).await;
        let slow = start_slow(&deployment, over_socket).await;
        let watcher = client(&deployment);
        let mut count = watcher
            .query::<_, f64>("messages:count", json!({}))
            .subscribe();
        assert_eq!(next(&mut count).await, 0.0, "socket: {over_socket}");
        gate.open();
        assert_eq!(slow.await.unwrap(), "slow");
        assert_eq!(next(&mut count).await, 1.0, "socket: {over_socket}");
    }
}

/// A raw sync socket on the deployment.
struct Socket(
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
);

impl Socket {
    async fn open(deployment: &TestDeployment, session: &str) -> Socket {
        let url = format!(
            "{}/api/1.20.0/sync",
            deployment.url().replacen("http", "ws", 1)
        );
        let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let mut socket = Socket(socket);
        socket
            .send(json!({ "type": "Connect", "sessionId": session, "connectionCount": 0 }))
            .await;
        socket
    }

    async fn send(&mut self, message: serde_json::Value) {
        self.0
            .send(Message::text(message.to_string()))
            .await
            .unwrap();
    }

    /// The next JSON message, or the close frame's code and reason.
    async fn next(&mut self) -> Result<serde_json::Value, Option<(u16, String)>> {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), self.0.next())
                .await
                .expect("a message within 10 s");
            match message {
                Some(Ok(Message::Text(text))) => {
                    let message: serde_json::Value = serde_json::from_str(&text).unwrap();
                    if message["type"] != "Ping" {
                        return Ok(message);
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    return Err(frame.map(|f| (u16::from(f.code), f.reason.to_string())));
                }
                Some(Ok(_)) => {}
                other => panic!("the socket ended without a close frame: {other:?}"),
            }
        }
    }

    async fn next_of(&mut self, kind: &str) -> serde_json::Value {
        loop {
            let message = self.next().await.unwrap();
            if message["type"] == kind {
                return message;
            }
        }
    }
}

fn decode_ts(ts: &serde_json::Value) -> u64 {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(ts.as_str().unwrap())
        .unwrap();
    u64::from_le_bytes(bytes.try_into().unwrap())
}

fn add(base: u32, id: u32, path: &str) -> serde_json::Value {
    json!({
        "type": "ModifyQuerySet", "baseVersion": base, "newVersion": base + 1,
        "modifications": [{ "type": "Add", "queryId": id, "udfPath": path, "args": [{}] }],
    })
}

#[tokio::test]
async fn a_mutation_response_carries_its_own_commit_timestamp() {
    let (gate, query_gate) = (Gate::new(), Gate::new());
    query_gate.open();
    let deployment = deployment(&gate, &query_gate).await;
    let mut socket = Socket::open(&deployment, "1b5a7ef2-5c5e-4f5a-9c51-3f1d2e4c5b6a").await;
    socket.send(add(0, 0, "messages:list")).await;
    socket.next_of("Transition").await;
    socket
        .send(json!({ "type": "Mutation", "requestId": 0, "udfPath": "messages:slow", "args": [{ "body": "slow" }] }))
        .await;
    eventually("the slow mutation runs", || {
        deployment.executions("messages:slow") == 1
    })
    .await;
    send(&deployment.client(), "fast", false).await;
    // While its own mutation runs, the session still pushes the other's commit.
    let pushed = socket.next_of("Transition").await;
    assert_eq!(pushed["modifications"][0]["value"], json!(["fast"]));
    let fast_ts = decode_ts(&pushed["endVersion"]["ts"]);
    gate.open();
    let response = socket.next_of("MutationResponse").await;
    assert_eq!(response["success"], true);
    let slow_ts = decode_ts(&response["ts"]);
    assert!(slow_ts > fast_ts, "{slow_ts} after {fast_ts}");
    let transition = socket.next_of("Transition").await;
    assert!(decode_ts(&transition["endVersion"]["ts"]) >= slow_ts);
    assert_eq!(
        transition["modifications"][0]["value"],
        json!(["fast", "slow"])
    );
}

#[tokio::test]
async fn query_set_changes_received_during_an_update_are_folded_into_the_next_transition() {
    let (gate, query_gate) = (Gate::new(), Gate::new());
    gate.open();
    let deployment = deployment(&gate, &query_gate).await;
    let mut socket = Socket::open(&deployment, "2c6b8f03-6d6f-4a6b-8d62-4a2e3f5d6c7b").await;
    // The first update runs the gated query; two more changes arrive while it waits.
    socket.send(add(0, 0, "messages:gatedList")).await;
    socket.send(add(1, 1, "messages:count")).await;
    socket.send(add(2, 2, "messages:list")).await;
    eventually("the three changes are received", || {
        received(&deployment, "ModifyQuerySet").len() == 3
    })
    .await;
    query_gate.open();
    let first = socket.next_of("Transition").await;
    assert_eq!(first["startVersion"]["querySet"], 0);
    assert_eq!(first["endVersion"]["querySet"], 1);
    assert_eq!(first["modifications"].as_array().unwrap().len(), 1);
    let second = socket.next_of("Transition").await;
    assert_eq!(second["startVersion"]["querySet"], 1);
    assert_eq!(second["endVersion"]["querySet"], 3);
    let ids: Vec<_> = second["modifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["queryId"].clone())
        .collect();
    assert_eq!(ids, [json!(1), json!(2)]);
}

#[tokio::test]
async fn the_runtime_client_follows_a_transition_that_answers_several_query_set_changes() {
    let (gate, query_gate) = (Gate::new(), Gate::new());
    gate.open();
    let deployment = deployment(&gate, &query_gate).await;
    let client = client(&deployment);
    let mut gated = client
        .query::<_, Vec<String>>("messages:gatedList", json!({}))
        .subscribe();
    let mut count = client
        .query::<_, f64>("messages:count", json!({}))
        .subscribe();
    // Each subscription is its own ModifyQuerySet once the first is out: poll them in turn.
    let first = tokio::spawn(async move { (next(&mut gated).await, gated) });
    eventually("the gated query is subscribed", || {
        received(&deployment, "ModifyQuerySet").len() == 1
    })
    .await;
    let counting = tokio::spawn(async move { (next(&mut count).await, count) });
    eventually("the count is subscribed", || {
        received(&deployment, "ModifyQuerySet").len() == 2
    })
    .await;
    query_gate.open();
    let (value, mut gated) = first.await.unwrap();
    assert!(value.is_empty());
    let (value, mut count) = counting.await.unwrap();
    assert_eq!(value, 0.0);
    send(&client, "after", true).await;
    assert_eq!(next(&mut gated).await, ["after"]);
    assert_eq!(next(&mut count).await, 1.0);
    assert_eq!(deployment.sync_connections_opened(), 1);
}

#[tokio::test]
async fn a_stale_base_version_is_the_backends_fatal_error_and_a_wrong_identity_base_an_internal_one()
 {
    let (gate, query_gate) = (Gate::new(), Gate::new());
    gate.open();
    let deployment = deployment(&gate, &query_gate).await;
    let mut socket = Socket::open(&deployment, "3d7c9014-7e70-4b7c-9e73-5b3f406e7d8c").await;
    // Folded changes count: the base is the last version received, not the last one answered.
    socket.send(add(0, 0, "messages:gatedList")).await;
    socket.send(add(1, 1, "messages:count")).await;
    socket.send(add(1, 2, "messages:list")).await;
    let fatal = socket.next().await.unwrap();
    assert_eq!(
        fatal,
        json!({ "type": "FatalError", "error": "Base version 1 passed up doesn't match the current version 2" })
    );
    // A BadRequest closes with a frame without a code (the client sees 1005).
    assert_eq!(socket.next().await, Err(None));

    let mut socket = Socket::open(&deployment, "4e8da125-8f81-4c8d-8f84-6c40517f8e9d").await;
    socket
        .send(json!({ "type": "Authenticate", "baseVersion": 1, "tokenType": "None" }))
        .await;
    assert_eq!(
        socket.next().await,
        Err(Some((1011, "InternalServerError".to_owned())))
    );
}

#[tokio::test]
async fn subscriptions_changed_while_disconnected_are_sent_from_version_zero_on_the_new_socket() {
    let (gate, query_gate) = (Gate::new(), Gate::new());
    gate.open();
    query_gate.open();
    let deployment = deployment(&gate, &query_gate).await;
    let client = Client::builder(deployment.url())
        .live(
            LiveSettings::default()
                .initial_backoff(Duration::from_millis(400))
                .max_backoff(Duration::from_millis(400)),
        )
        .build()
        .unwrap();
    let mut list = client
        .query::<_, Vec<String>>("messages:list", json!({}))
        .subscribe();
    let mut count = client
        .query::<_, f64>("messages:count", json!({}))
        .subscribe();
    assert!(next(&mut list).await.is_empty());
    assert_eq!(next(&mut count).await, 0.0);
    let mut states = client.connection_state();
    deployment.drop_sync_connections();
    tokio::time::timeout(
        Duration::from_secs(10),
        states.wait_for(|state| *state != ConnectionState::Connected),
    )
    .await
    .unwrap()
    .unwrap();
    // While it is away: one subscription goes, another comes.
    drop(count);
    let mut gated = client
        .query::<_, Vec<String>>("messages:gatedList", json!({}))
        .subscribe();
    assert!(next(&mut gated).await.is_empty());
    send(&deployment.client(), "back", false).await;
    assert_eq!(next(&mut gated).await, ["back"]);
    let mut latest = next(&mut list).await;
    while latest.is_empty() {
        latest = next(&mut list).await;
    }
    assert_eq!(latest, ["back"]);
    // No FatalError made it reconnect again, and the new socket's query set started from version 0.
    assert_eq!(deployment.sync_connections_opened(), 2);
    let messages = deployment.sync_messages();
    let reconnect = messages
        .iter()
        .rposition(|m| m["type"] == "Connect")
        .unwrap();
    let mut version = 0;
    for modify in messages[reconnect..]
        .iter()
        .filter(|m| m["type"] == "ModifyQuerySet")
    {
        assert_eq!(modify["baseVersion"], version, "{modify}");
        version = modify["newVersion"].as_u64().unwrap();
    }
    assert!(version >= 1);
}

#[tokio::test]
async fn a_socket_mutation_re_sent_while_it_runs_on_a_dropped_socket_runs_once() {
    let (gate, query_gate) = (Gate::new(), Gate::new());
    query_gate.open();
    let deployment = Arc::new(deployment(&gate, &query_gate).await);
    let client = client(&deployment);
    let call = tokio::spawn({
        let client = client.clone();
        async move {
            client
                .mutation::<_, String>("messages:slow", json!({ "body": "once" }))
                .over_socket()
                .await
        }
    });
    eventually("the slow mutation runs", || {
        deployment.executions("messages:slow") == 1
    })
    .await;
    deployment.drop_sync_connections();
    eventually("the mutation is re-sent on a new socket", || {
        received(&deployment, "Mutation").len() == 2
    })
    .await;
    gate.open();
    assert_eq!(call.await.unwrap().unwrap(), "once");
    assert_eq!(deployment.executions("messages:slow"), 1);
    assert_eq!(deployment.state::<Messages>().unwrap().0, ["once"]);
    // Both sends were the same request of the same session.
    let sends = received(&deployment, "Mutation");
    assert_eq!(sends[0]["requestId"], sends[1]["requestId"]);
}

#[tokio::test]
async fn a_raw_re_send_on_a_new_socket_joins_the_run_and_gets_its_commit_timestamp() {
    let (gate, query_gate) = (Gate::new(), Gate::new());
    query_gate.open();
    let deployment = deployment(&gate, &query_gate).await;
    let session = "5f9eb236-9092-4d9e-9095-7d5162809fae";
    let mutation = json!({ "type": "Mutation", "requestId": 7, "udfPath": "messages:slow", "args": [{ "body": "once" }] });
    let mut first = Socket::open(&deployment, session).await;
    first.send(mutation.clone()).await;
    eventually("the slow mutation runs", || {
        deployment.executions("messages:slow") == 1
    })
    .await;
    drop(first);
    let mut second = Socket::open(&deployment, session).await;
    second.send(mutation.clone()).await;
    eventually("the re-send is received", || {
        received(&deployment, "Mutation").len() == 2
    })
    .await;
    gate.open();
    let response = second.next_of("MutationResponse").await;
    assert_eq!(response["result"], "once");
    let ts = decode_ts(&response["ts"]);
    // Sent again after it ran: the stored result and the same commit timestamp.
    let mut third = Socket::open(&deployment, session).await;
    third.send(mutation).await;
    let again = third.next_of("MutationResponse").await;
    assert_eq!(again["result"], "once");
    assert_eq!(decode_ts(&again["ts"]), ts);
    assert_eq!(deployment.executions("messages:slow"), 1);
    assert_eq!(
        deployment
            .calls()
            .iter()
            .filter(|c| c.path == "messages:slow")
            .count(),
        1
    );
}

/// Sends `tasks × per_task` socket mutations, each with its own key, while the deployment drops every socket
/// every few milliseconds; returns how many ran more than once (a handler awaits before writing, so drops
/// strike while they run).
async fn mutations_across_dropped_sockets(tasks: usize, per_task: usize) -> (usize, usize) {
    #[derive(Default)]
    struct Runs(std::collections::HashMap<String, u32>);
    let deployment = Arc::new(
        TestDeployment::builder()
            .state(Runs::default())
            .mutation(
                "runs:once",
                |ctx: Ctx, args: serde_json::Value| async move {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    let key = args["key"].as_str().unwrap_or_default().to_owned();
                    *ctx.state::<Runs>()?.0.entry(key).or_default() += 1;
                    Ok(())
                },
            )
            .start()
            .await,
    );
    let dropping = tokio::spawn({
        let deployment = deployment.clone();
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(7)).await;
                deployment.drop_sync_connections();
            }
        }
    });
    let client = client(&deployment);
    let mut calls = tokio::task::JoinSet::new();
    for task in 0..tasks {
        let client = client.clone();
        calls.spawn(async move {
            for n in 0..per_task {
                client
                    .mutation::<_, ()>("runs:once", json!({ "key": format!("{task}-{n}") }))
                    .over_socket()
                    .await
                    .unwrap();
            }
        });
    }
    while let Some(done) = calls.join_next().await {
        done.unwrap();
    }
    dropping.abort();
    let runs = deployment.state::<Runs>().unwrap();
    assert_eq!(runs.0.len(), tasks * per_task, "every mutation ran");
    let twice = runs.0.values().filter(|n| **n > 1).count();
    (twice, deployment.sync_connections_opened() as usize)
}

#[tokio::test]
async fn socket_mutations_run_once_while_sockets_keep_dropping() {
    let (twice, _) = mutations_across_dropped_sockets(8, 25).await;
    assert_eq!(twice, 0);
}

/// `cargo test -p convex-fetch-tests --test suite live_commit::soak -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run with --ignored --nocapture"]
async fn soak_of_socket_mutations_across_dropped_sockets() {
    let (twice, sockets) = mutations_across_dropped_sockets(32, 500).await;
    println!("16000 socket mutations over {sockets} sockets: {twice} ran more than once");
    assert_eq!(twice, 0);
}
