//! The sync protocol of live queries (`/api/sync`, `/api/<version>/sync`), as the backend serves it: one
//! session per WebSocket with its versions, its queries and its identity; a Transition after every
//! `ModifyQuerySet`, `Authenticate`, mutation and action; and after every mutation (over HTTP or a socket),
//! every session re-runs its queries and pushes those whose results changed. Successful mutations are
//! deduplicated by (session id, request id), as the backend's `_session_requests` does.
//!
//! Faults ([`SyncFault`]) strike the next message a session sends, so a test can cut a socket at any step.

use super::auth::{Auth, Caller};
use super::live_state::SyncFault;
use super::lock;
use super::path::FunctionPath;
use super::record::RecordedCall;
use super::request::check_client_version;
use super::server::{Ran, Threw, execute};
use super::shared::{Shared, now_ns};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use convex_fetch::FunctionKind;
use convex_fetch::value::Value as ConvexValue;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The backend's WebSocket ping interval.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// After this long without sending, the backend's sync worker sends a JSON `Ping`.
const IDLE_PING: Duration = Duration::from_secs(15);
/// How many client messages [`TestDeployment::sync_messages`](super::TestDeployment::sync_messages) keeps.
const MAX_RECORDED_MESSAGES: usize = 10_000;

/// The upgrade of `GET /api/sync` and `GET /api/<version>/sync`.
pub(crate) async fn upgrade(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if let Err(error) = check_client_version(&headers) {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "code": error.code, "message": error.message })),
        )
            .into_response();
    }
    ws.on_upgrade(move |socket| async move {
        shared.live.opened.fetch_add(1, Ordering::SeqCst);
        shared.live.open.fetch_add(1, Ordering::SeqCst);
        Session::new(shared.clone()).serve(socket).await;
        shared.live.open.fetch_sub(1, Ordering::SeqCst);
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Version {
    query_set: u32,
    identity: u32,
    ts: u64,
}

impl Version {
    fn json(self) -> Value {
        json!({
            "querySet": self.query_set,
            "identity": self.identity,
            "ts": encode_ts(self.ts),
        })
    }
}

fn encode_ts(ts: u64) -> String {
    base64::engine::general_purpose::STANDARD.encode(ts.to_le_bytes())
}

/// What a session last sent for a query, to send only changes.
#[derive(PartialEq)]
enum Sent {
    Value(Value, Vec<String>),
    /// The error text without its request id (new at each run), and the data.
    Failed(String, Option<Value>, Vec<String>),
}

struct Query {
    path: FunctionPath,
    args: Result<ConvexValue, String>,
    last: Option<Sent>,
}

/// Why a session ends.
enum End {
    /// Drop the connection without a close frame.
    Drop,
    /// Send this close frame (none: no code), then end.
    Close(Option<(u16, String)>),
}

struct Session {
    shared: Arc<Shared>,
    version: Version,
    received_query_set: u32,
    received_identity: u32,
    queries: BTreeMap<u32, Query>,
    removed: Vec<u32>,
    caller: Caller,
    auth: Auth,
    session_id: Option<String>,
    skew: Option<i64>,
    silenced: bool,
    last_sent: Instant,
}

impl Session {
    fn new(shared: Arc<Shared>) -> Session {
        Session {
            shared,
            version: Version::default(),
            received_query_set: 0,
            received_identity: 0,
            queries: BTreeMap::new(),
            removed: Vec::new(),
            caller: Caller::default(),
            auth: Auth::None,
            session_id: None,
            skew: None,
            silenced: false,
            last_sent: Instant::now(),
        }
    }

    async fn serve(mut self, socket: WebSocket) {
        let (mut tx, mut rx) = socket.split();
        let mut commits = self.shared.live.commits.subscribe();
        let mut kill = self.shared.live.kill.subscribe();
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        heartbeat.tick().await;
        let end = loop {
            let step = tokio::select! {
                message = rx.next() => match message {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                    Some(Ok(Message::Text(text))) => self.receive(&mut tx, text.as_str()).await,
                    Some(Ok(Message::Binary(_))) => Err(End::Close(Some((1011, "InternalServerError".to_owned())))),
                    Some(Ok(_)) => Ok(()),
                },
                changed = commits.changed() => match changed {
                    Ok(()) => self.send_update(&mut tx, false).await,
                    Err(_) => return,
                },
                _ = kill.changed() => Err(End::Drop),
                _ = heartbeat.tick() => self.heartbeat(&mut tx).await,
            };
            if let Err(end) = step {
                break end;
            }
        };
        if let End::Close(frame) = end {
            let frame = frame.map(|(code, reason)| CloseFrame {
                code,
                reason: reason.into(),
            });
            let _ = tx.send(Message::Close(frame)).await;
        }
        // Dropping both halves ends the connection; without a close frame the client sees 1006.
    }

    async fn heartbeat(&mut self, tx: &mut (impl SinkExt<Message> + Unpin)) -> Result<(), End> {
        if self.silenced {
            return Ok(());
        }
        tx.send(Message::Ping(Default::default()))
            .await
            .map_err(|_| End::Drop)?;
        if self.last_sent.elapsed() >= IDLE_PING {
            self.last_sent = Instant::now();
            tx.send(Message::text(json!({ "type": "Ping" }).to_string()))
                .await
                .map_err(|_| End::Drop)?;
        }
        Ok(())
    }

    /// Sends one message, after the fault at the front of the queue strikes.
    async fn send(
        &mut self,
        tx: &mut (impl SinkExt<Message> + Unpin),
        message: Value,
    ) -> Result<(), End> {
        if self.silenced {
            return Ok(());
        }
        match self
            .shared
            .live
            .take_fault(|fault| *fault != SyncFault::DropOnMutation)
        {
            Some(SyncFault::Drop) => return Err(End::Drop),
            Some(SyncFault::Close { code, reason }) => {
                return Err(End::Close(Some((code, reason))));
            }
            Some(SyncFault::Delay(delay)) => tokio::time::sleep(delay).await,
            Some(SyncFault::Silence) => {
                self.silenced = true;
                return Ok(());
            }
            Some(SyncFault::DropOnMutation) | None => {}
        }
        self.last_sent = Instant::now();
        tx.send(Message::text(message.to_string()))
            .await
            .map_err(|_| End::Drop)
    }

    async fn fatal(
        &mut self,
        tx: &mut (impl SinkExt<Message> + Unpin),
        error: String,
    ) -> Result<(), End> {
        self.send(tx, json!({ "type": "FatalError", "error": error }))
            .await?;
        Err(End::Close(None))
    }

    fn record(&self, kind: FunctionKind, path: &FunctionPath, args: &Result<ConvexValue, String>) {
        let args = args
            .as_ref()
            .cloned()
            .unwrap_or(ConvexValue::Object(Default::default()));
        lock(&self.shared.recorder).record(RecordedCall {
            kind,
            path: path.canonical(),
            args,
            auth: self.auth.clone(),
            endpoint: "/api/sync".to_owned(),
        });
    }

    async fn receive(
        &mut self,
        tx: &mut (impl SinkExt<Message> + Unpin),
        text: &str,
    ) -> Result<(), End> {
        let message: Value = match serde_json::from_str(text) {
            Ok(message) => message,
            Err(e) => {
                return self
                    .fatal(tx, format!("Received Invalid JSON on websocket: {e}"))
                    .await;
            }
        };
        {
            let mut messages = lock(&self.shared.live.messages);
            if messages.len() == MAX_RECORDED_MESSAGES {
                messages.pop_front();
            }
            messages.push_back(message.clone());
        }
        let kind = message["type"].as_str().unwrap_or_default().to_owned();
        match kind.as_str() {
            "Connect" => {
                self.session_id = message["sessionId"].as_str().map(str::to_owned);
                self.skew = message["clientTs"]
                    .as_i64()
                    .map(|ts| ts - (now_ns() / 1_000_000) as i64);
                Ok(())
            }
            "ModifyQuerySet" => self.modify(tx, &message).await,
            "Authenticate" => self.authenticate(tx, &message).await,
            "Mutation" | "Action" => self.request(tx, &kind, &message).await,
            "Event" => Ok(()),
            _ => {
                self.fatal(
                    tx,
                    format!("Received Invalid JSON on websocket: unknown variant `{kind}`"),
                )
                .await
            }
        }
    }

    async fn modify(
        &mut self,
        tx: &mut (impl SinkExt<Message> + Unpin),
        message: &Value,
    ) -> Result<(), End> {
        let base = message["baseVersion"].as_u64();
        let new = message["newVersion"].as_u64();
        let (Some(base), Some(new)) = (base, new) else {
            return self
                .fatal(
                    tx,
                    "Received Invalid JSON on websocket: ModifyQuerySet lacks versions".to_owned(),
                )
                .await;
        };
        if base != u64::from(self.received_query_set) {
            return self
                .fatal(
                    tx,
                    format!(
                        "Base version {base} passed up doesn't match the current version {}",
                        self.received_query_set
                    ),
                )
                .await;
        }
        if new <= base || new > u64::from(u32::MAX) {
            return Err(End::Close(Some((1011, "InternalServerError".to_owned()))));
        }
        for modification in message["modifications"].as_array().into_iter().flatten() {
            let Some(id) = modification["queryId"]
                .as_u64()
                .and_then(|id| u32::try_from(id).ok())
            else {
                return Err(End::Close(Some((1011, "InternalServerError".to_owned()))));
            };
            match modification["type"].as_str() {
                Some("Add") => {
                    if self.queries.contains_key(&id) {
                        // "Duplicate query ID": an internal error on the backend.
                        return Err(End::Close(Some((1011, "InternalServerError".to_owned()))));
                    }
                    let text = modification["udfPath"].as_str().unwrap_or_default();
                    let Ok(path) = FunctionPath::parse(text) else {
                        return self
                            .fatal(
                                tx,
                                format!("{text} is not a valid path to a Convex function."),
                            )
                            .await;
                    };
                    let args = one_object(&modification["args"]);
                    self.record(FunctionKind::Query, &path, &args);
                    self.queries.insert(
                        id,
                        Query {
                            path,
                            args,
                            last: None,
                        },
                    );
                }
                Some("Remove") => {
                    if self.queries.remove(&id).is_none() {
                        return Err(End::Close(Some((1011, "InternalServerError".to_owned()))));
                    }
                    self.removed.push(id);
                }
                _ => {
                    return self
                        .fatal(
                            tx,
                            "Received Invalid JSON on websocket: a modification of an unknown type"
                                .to_owned(),
                        )
                        .await;
                }
            }
        }
        self.received_query_set = new as u32;
        self.send_update(tx, true).await
    }

    async fn authenticate(
        &mut self,
        tx: &mut (impl SinkExt<Message> + Unpin),
        message: &Value,
    ) -> Result<(), End> {
        if message["baseVersion"].as_u64() != Some(u64::from(self.received_identity)) {
            return Err(End::Close(Some((1011, "InternalServerError".to_owned()))));
        }
        let value = message["value"].as_str().unwrap_or_default();
        let accepted = match message["tokenType"].as_str() {
            Some("None") => Some((Caller::default(), Auth::None)),
            Some("User") => {
                let refused = lock(&self.shared.live.refused).contains(value);
                self.shared
                    .tokens
                    .get(value)
                    .filter(|_| !refused)
                    .map(|identity| {
                        (
                            Caller {
                                identity: Some(identity.clone()),
                                admin: false,
                            },
                            Auth::Bearer {
                                token: value.to_owned(),
                                identity: Some(identity.clone()),
                            },
                        )
                    })
            }
            Some("Admin") if value == self.shared.admin_key => {
                let acting = message
                    .get("impersonating")
                    .or_else(|| message.get("actingAs"))
                    .filter(|v| v.is_object())
                    .cloned();
                let auth = match &acting {
                    Some(identity) => Auth::ActingAs(identity.clone()),
                    None => Auth::Admin,
                };
                Some((
                    Caller {
                        identity: acting,
                        admin: true,
                    },
                    auth,
                ))
            }
            _ => None,
        };
        let Some((caller, auth)) = accepted else {
            let error = json!({
                "type": "AuthError",
                "error": "Could not verify OIDC token claim. Check that the token signature is valid and the token hasn't expired.",
                "baseVersion": self.version.identity,
                "authUpdateAttempted": true,
            });
            self.send(tx, error).await?;
            return Err(End::Close(None));
        };
        self.caller = caller;
        self.auth = auth;
        self.received_identity += 1;
        self.send_update(tx, true).await
    }

    async fn request(
        &mut self,
        tx: &mut (impl SinkExt<Message> + Unpin),
        kind: &str,
        message: &Value,
    ) -> Result<(), End> {
        let mutation = kind == "Mutation";
        if mutation
            && self
                .shared
                .live
                .take_fault(|fault| *fault == SyncFault::DropOnMutation)
                .is_some()
        {
            return Err(End::Drop);
        }
        let Some(request_id) = message["requestId"]
            .as_u64()
            .and_then(|id| u32::try_from(id).ok())
        else {
            return self
                .fatal(
                    tx,
                    format!("Received Invalid JSON on websocket: {kind} lacks requestId"),
                )
                .await;
        };
        let text = message["udfPath"].as_str().unwrap_or_default();
        let function_kind = if mutation {
            FunctionKind::Mutation
        } else {
            FunctionKind::Action
        };
        let response_type = if mutation {
            "MutationResponse"
        } else {
            "ActionResponse"
        };
        let key = self
            .session_id
            .clone()
            .filter(|_| mutation)
            .map(|session| (session, request_id));
        let stored = key
            .as_ref()
            .and_then(|key| lock(&self.shared.live.done).get(key).cloned());
        let response = match (stored, FunctionPath::parse(text)) {
            // Already executed in this session: the stored result and the original commit ts.
            (Some((result, ts, log_lines)), _) => json!({
                "type": response_type, "requestId": request_id, "success": true,
                "result": result, "ts": encode_ts(ts), "logLines": log_lines,
            }),
            (None, Err(_)) => json!({
                "type": response_type, "requestId": request_id, "success": false,
                "result": self.shared.error_message(&format!("Uncaught Error: {text} is not a valid path to a Convex function.")),
                "ts": null, "logLines": [],
            }),
            (None, Ok(path)) => {
                let args = one_object(&message["args"]);
                self.record(function_kind, &path, &args);
                // A dropped socket ends the session at once; the function runs on regardless.
                let mut kill = self.shared.live.kill.subscribe();
                let run = execute(
                    &self.shared,
                    &path,
                    Some(function_kind),
                    args,
                    self.caller.clone(),
                );
                let outcome = tokio::select! {
                    outcome = run => outcome,
                    _ = kill.changed() => return Err(End::Drop),
                };
                match outcome {
                    Ok(Ran { value, log_lines }) => {
                        let ts = self.shared.ts.load(Ordering::SeqCst);
                        if let Some(key) = key {
                            lock(&self.shared.live.done)
                                .insert(key, (value.clone(), ts, log_lines.clone()));
                        }
                        let mut response = json!({
                            "type": response_type, "requestId": request_id, "success": true,
                            "result": value, "logLines": log_lines,
                        });
                        if mutation {
                            response["ts"] = json!(encode_ts(ts));
                        }
                        response
                    }
                    Err(Threw {
                        message,
                        data,
                        log_lines,
                    }) => {
                        let mut response = json!({
                            "type": response_type, "requestId": request_id, "success": false,
                            "result": message, "logLines": log_lines,
                        });
                        if mutation {
                            response["ts"] = Value::Null;
                        }
                        if let Some(data) = data {
                            response["errorData"] = data;
                        }
                        response
                    }
                }
            }
        };
        self.send(tx, response).await?;
        // The backend sends a Transition after every mutation and action, whatever the result.
        self.send_update(tx, true).await
    }

    /// Sends the Transition of [`update`](Self::update), if there is one.
    async fn send_update(
        &mut self,
        tx: &mut (impl SinkExt<Message> + Unpin),
        force: bool,
    ) -> Result<(), End> {
        match self.update(force).await {
            Some(transition) => self.send(tx, transition).await,
            None => Ok(()),
        }
    }

    /// Re-runs every query at the latest timestamp; the Transition to send, if anything changed (or
    /// `force`, as after a client message that the backend always answers).
    async fn update(&mut self, force: bool) -> Option<Value> {
        let ts = self.shared.ts.load(Ordering::SeqCst).max(self.version.ts);
        let mut modifications: Vec<Value> = self
            .removed
            .drain(..)
            .map(|id| json!({ "type": "QueryRemoved", "queryId": id }))
            .collect();
        // As the backend: with no commit and the same identity since the last Transition, a query already
        // answered is still valid and is not run again; only new ones are.
        let still_valid = ts == self.version.ts && self.received_identity == self.version.identity;
        let ids: Vec<u32> = self.queries.keys().copied().collect();
        for id in ids {
            let Some(query) = self.queries.get(&id) else {
                continue;
            };
            if still_valid && query.last.is_some() {
                continue;
            }
            let outcome = execute(
                &self.shared,
                &query.path,
                Some(FunctionKind::Query),
                query.args.clone(),
                self.caller.clone(),
            )
            .await;
            let (sent, modification) = match outcome {
                Ok(Ran { value, log_lines }) => (
                    Sent::Value(value.clone(), log_lines.clone()),
                    json!({ "type": "QueryUpdated", "queryId": id, "value": value, "logLines": log_lines, "journal": null }),
                ),
                Err(Threw {
                    message,
                    data,
                    log_lines,
                }) => {
                    let text = message
                        .split_once("] ")
                        .map_or(message.as_str(), |(_, rest)| rest)
                        .to_owned();
                    let mut failed = json!({ "type": "QueryFailed", "queryId": id, "errorMessage": message, "logLines": log_lines, "journal": null });
                    if let Some(data) = &data {
                        failed["errorData"] = data.clone();
                    }
                    (Sent::Failed(text, data, log_lines), failed)
                }
            };
            if let Some(query) = self.queries.get_mut(&id)
                && query.last.as_ref() != Some(&sent)
            {
                query.last = Some(sent);
                modifications.push(modification);
            }
        }
        let end = Version {
            query_set: self.received_query_set,
            identity: self.received_identity,
            ts,
        };
        if modifications.is_empty() && !force && end == self.version {
            return None;
        }
        let transition = json!({
            "type": "Transition",
            "startVersion": self.version.json(),
            "endVersion": end.json(),
            "modifications": modifications,
            "clientClockSkew": self.skew,
            "serverTs": now_ns(),
        });
        self.version = end;
        Some(transition)
    }
}

/// The args of a sync message: an array holding one object.
fn one_object(args: &Value) -> Result<ConvexValue, String> {
    let object = match args {
        Value::Array(items) if items.len() == 1 && items[0].is_object() => items[0].clone(),
        Value::Object(_) => args.clone(),
        other => {
            return Err(format!(
                "ArgumentValidationError: The arguments must be an array holding one object, not {other}."
            ));
        }
    };
    ConvexValue::from_json(object.clone())
        .map_err(|e| format!("ArgumentValidationError: {e}\n\nObject: {object}"))
}
