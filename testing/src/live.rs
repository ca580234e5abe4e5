//! The sync protocol of live queries (`/api/sync`, `/api/<version>/sync`), as the backend's sync worker
//! serves it: one session per WebSocket with its versions, its queries and its identity. A session keeps
//! reading messages while its mutations (one at a time, `live_request`), its actions and its query updates
//! (`live_query`) run, and sends each answer when it is ready: a response, then a Transition after every
//! mutation and action; a Transition answering every `ModifyQuerySet` and `Authenticate` received before its
//! update began; and after every commit (over HTTP or a socket), a Transition with the queries whose results
//! changed. Mutations are deduplicated by (session id, request id), as the backend's `_session_requests`
//! does.
//!
//! Faults ([`SyncFault`]) strike the next message a session sends, so a test can cut a socket at any step.

use super::auth::{Auth, Caller};
use super::live_query::{Change, Query, QuerySet, Refused};
use super::live_request::{self, Request, invalid_path, is_resent, respond};
use super::live_state::SyncFault;
use super::lock;
use super::outcome::{Ran, Threw};
use super::path::FunctionPath;
use super::record::RecordedCall;
use super::request::check_client_version;
use super::shared::{Shared, now_ns};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use convex_fetch::FunctionKind;
use convex_fetch::value::Value as ConvexValue;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::VecDeque;
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

/// Why a session ends.
enum End {
    /// Drop the connection without a close frame.
    Drop,
    /// Send this close frame (none: no code), then end.
    Close(Option<(u16, String)>),
}

struct Session {
    shared: Arc<Shared>,
    queries: QuerySet,
    caller: Caller,
    auth: Auth,
    session_id: Option<String>,
    skew: Option<i64>,
    silenced: bool,
    last_sent: Instant,
    /// The mutation running, then those received after it: one at a time, in order, as the backend runs a
    /// session's mutations.
    mutation: Option<live_request::Response>,
    mutations: VecDeque<live_request::Response>,
    /// The actions running, side by side.
    actions: FuturesUnordered<live_request::Response>,
}

/// What woke a session.
enum Event {
    Text(String),
    /// A request's response is ready; `true` for a mutation.
    Answered(Value, bool),
    Updated(Vec<(u32, Result<Ran, Threw>)>),
    Committed,
    Heartbeat,
    Nothing,
    End(End),
}

/// The mutation's response, once it ran (never, when none runs).
async fn answered(mutation: Option<&mut live_request::Response>) -> Value {
    match mutation {
        Some(response) => response.await,
        None => std::future::pending().await,
    }
}

impl Session {
    fn new(shared: Arc<Shared>) -> Session {
        Session {
            shared,
            queries: QuerySet::default(),
            caller: Caller::default(),
            auth: Auth::None,
            session_id: None,
            skew: None,
            silenced: false,
            last_sent: Instant::now(),
            mutation: None,
            mutations: VecDeque::new(),
            actions: FuturesUnordered::new(),
        }
    }

    /// Serves the socket until it closes: reads messages while mutations, actions and query updates run,
    /// sends their answers as they come, and re-runs the queries after each commit.
    async fn serve(mut self, socket: WebSocket) {
        let (mut tx, mut rx) = socket.split();
        let mut commits = self.shared.live.commits.subscribe();
        let mut kill = self.shared.live.kill.subscribe();
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        heartbeat.tick().await;
        let end = loop {
            // Biased: a mutation's response goes before the Transition its own commit wakes.
            let event = tokio::select! {
                biased;
                _ = kill.changed() => Event::End(End::Drop),
                message = rx.next() => match message {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                    Some(Ok(Message::Text(text))) => Event::Text(text.as_str().to_owned()),
                    Some(Ok(Message::Binary(_))) => Event::End(End::Close(Some((1011, "InternalServerError".to_owned())))),
                    Some(Ok(_)) => Event::Nothing,
                },
                response = answered(self.mutation.as_mut()) => Event::Answered(response, true),
                Some(response) = self.actions.next(), if !self.actions.is_empty() => Event::Answered(response, false),
                results = self.queries.in_flight() => Event::Updated(results),
                changed = commits.changed() => match changed {
                    Ok(()) => Event::Committed,
                    Err(_) => return,
                },
                _ = heartbeat.tick() => Event::Heartbeat,
            };
            let step = match event {
                Event::Text(text) => self.receive(&mut tx, &text).await,
                Event::Answered(response, mutation) => {
                    if mutation {
                        self.mutation = self.mutations.pop_front();
                    }
                    // The backend sends a Transition after every mutation and action, whatever the result.
                    self.queries.schedule(true);
                    self.send(&mut tx, response).await
                }
                Event::Updated(results) => match self.queries.finish(results, self.skew) {
                    Some(transition) => self.send(&mut tx, transition).await,
                    None => Ok(()),
                },
                Event::Committed => {
                    self.queries.schedule(false);
                    Ok(())
                }
                Event::Heartbeat => self.heartbeat(&mut tx).await,
                Event::Nothing => Ok(()),
                Event::End(end) => Err(end),
            };
            let begun = step.and_then(|()| {
                self.queries
                    .begin(&self.shared, &self.caller)
                    .map_err(|_| End::Close(Some((1011, "InternalServerError".to_owned()))))
            });
            if let Err(end) = begun {
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
        // Dropping both halves ends the connection; without a close frame the client sees 1006. Mutations
        // already running go on, on their own tasks.
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

    /// A `ModifyQuerySet`: its changes wait in the query set for the next update.
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
        let mut changes = Vec::new();
        let mut added = Vec::new();
        for modification in message["modifications"].as_array().into_iter().flatten() {
            let Some(id) = modification["queryId"]
                .as_u64()
                .and_then(|id| u32::try_from(id).ok())
            else {
                return Err(internal_error());
            };
            match modification["type"].as_str() {
                Some("Add") => {
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
                    added.push((path.clone(), args.clone()));
                    changes.push(Change::Add(id, Query::new(path, args)));
                }
                Some("Remove") => changes.push(Change::Remove(id)),
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
        match self.queries.modify(base, new, changes) {
            Ok(()) => {
                for (path, args) in &added {
                    self.record(FunctionKind::Query, path, args);
                }
                Ok(())
            }
            Err(Refused::BaseVersion(error)) => self.fatal(tx, error).await,
            Err(Refused::Internal) => Err(internal_error()),
        }
    }

    async fn authenticate(
        &mut self,
        tx: &mut (impl SinkExt<Message> + Unpin),
        message: &Value,
    ) -> Result<(), End> {
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
                                credential: None,
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
                        credential: None,
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
                "baseVersion": self.queries.identity_version(),
                "authUpdateAttempted": true,
            });
            self.send(tx, error).await?;
            return Err(End::Close(None));
        };
        // As the backend: the token is verified first, then the base version.
        self.queries
            .check_identity_base(message["baseVersion"].as_u64())
            .map_err(|_| internal_error())?;
        // Mutations and actions run under the new identity at once; queries from the next update.
        self.caller = Caller {
            credential: Some(auth.clone()),
            ..caller
        };
        self.auth = auth;
        self.queries.authenticated();
        Ok(())
    }

    /// A `Mutation` or an `Action`: queued or started, answered when it has run.
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
        let response = match FunctionPath::parse(text) {
            Err(_) => {
                let response = invalid_path(&self.shared, mutation, request_id, text);
                async move { response }.boxed()
            }
            Ok(path) => {
                let request = Request {
                    request_id,
                    kind: if mutation {
                        FunctionKind::Mutation
                    } else {
                        FunctionKind::Action
                    },
                    path,
                    args: one_object(&message["args"]),
                    caller: self.caller.clone(),
                    session_id: self.session_id.clone(),
                };
                if !is_resent(&self.shared, &request) {
                    self.record(request.kind, &request.path, &request.args);
                }
                respond(&self.shared, request)
            }
        };
        if !mutation {
            self.actions.push(response);
        } else if self.mutation.is_none() {
            self.mutation = Some(response);
        } else {
            self.mutations.push_back(response);
        }
        Ok(())
    }
}

/// The close of an internal error on the backend.
fn internal_error() -> End {
    End::Close(Some((1011, "InternalServerError".to_owned())))
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
