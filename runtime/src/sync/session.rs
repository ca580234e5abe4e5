//! The sync protocol's session of one live connection, without I/O: commands in (subscribe, unsubscribe, a
//! request), server messages in, and out the messages to write and the results published to the streams.
//! The worker owns the socket and the waits, and calls this for every decision; the tests drive it by hand.
//!
//! Everything the protocol keeps per socket (versions, the server's query ids) restarts with each socket;
//! what the client keeps (the session id, query ids, request ids, the last results) lives here for the
//! connection's lifetime, so that a reconnect resubscribes from version 0 and re-sends unfinished mutations
//! under the same (session id, request id), which the deployment deduplicates.

use super::Args;
use super::latest::Latest;
use super::protocol::{
    self, Credential, Modification, QueryModification, Response, ServerMessage, StateVersion,
    Transition,
};
use super::worker::{Command, Failure, Outcome, RequestKind, Subscribed, Views};
use crate::live_settings::LiveSettings;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{oneshot, watch};

struct Query {
    path: String,
    args: Args,
    key: String,
    subscribers: usize,
    journal: Option<Value>,
    results: watch::Sender<Latest>,
}

impl Query {
    /// Publishes a result that differs from the last: a new `Latest`, which its subscribers decode anew.
    fn publish(&self, outcome: Outcome) {
        self.results.send_if_modified(|current| {
            if current.outcome.same(&outcome) {
                false
            } else {
                *current = Latest::new(outcome);
                true
            }
        });
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RequestState {
    /// Not sent on the current socket.
    Unsent,
    /// Sent on the current socket, no answer yet.
    Sent,
    /// A mutation that succeeded at this commit timestamp, waiting for a Transition that reaches it.
    Committed(u64),
}

struct Request {
    kind: RequestKind,
    path: String,
    args: Args,
    state: RequestState,
    /// Sent on an earlier socket that was lost: it may have run.
    sent_before: bool,
    value: Option<Value>,
    reply: Option<oneshot::Sender<Outcome>>,
}

/// Why a socket ended, and how long to wait before the next.
pub(super) struct Lost {
    pub(super) reason: String,
    /// The first backoff ceiling for this cause, before doubling.
    pub(super) initial: Duration,
    /// The token source refused the session (the streams have been told).
    pub(super) refused: bool,
    /// A refusal for good (a refused upgrade, a `FatalError`): every stream and pending request is told.
    pub(super) fail: Option<Outcome>,
}

/// The session: the query set, the requests, the versions and the identity of one connection.
pub(super) struct Session {
    views: Arc<Views>,
    /// The backoffs a loss asks for.
    settings: LiveSettings,
    /// The credential of the current (or last) socket.
    pub(super) credential: Option<Credential>,
    /// The deployment refused the last token: ask the source for a fresh one.
    pub(super) fresh_token: bool,
    session_id: String,
    queries: BTreeMap<u32, Query>,
    keys: HashMap<String, u32>,
    next_query_id: u32,
    requests: BTreeMap<u32, Request>,
    next_request_id: u32,
    /// The versions of the current socket: what the server last confirmed, and what was last sent.
    remote: StateVersion,
    query_set: u32,
    identity: u32,
    max_observed: Option<u64>,
    pub(super) connection_count: u32,
    pub(super) last_close_reason: String,
    /// Whether the current socket has been answered with a Transition: only its loss starts the backoff
    /// over.
    pub(super) healthy: bool,
}

impl Session {
    pub(super) fn new(
        views: Arc<Views>,
        settings: LiveSettings,
        credential: Option<Credential>,
    ) -> Session {
        Session {
            views,
            settings,
            credential,
            fresh_token: false,
            session_id: super::random::uuid_v4(),
            queries: BTreeMap::new(),
            keys: HashMap::new(),
            next_query_id: 0,
            requests: BTreeMap::new(),
            next_request_id: 0,
            remote: StateVersion::default(),
            query_set: 0,
            identity: 0,
            max_observed: None,
            connection_count: 0,
            last_close_reason: "InitialConnect".to_owned(),
            healthy: false,
        }
    }

    /// The `Authenticate` that replaces the open socket's credential with `credential` (a fresh token): the
    /// queries re-run under the new identity.
    pub(super) fn reauthenticate(&mut self, credential: Credential) -> String {
        let text = protocol::authenticate(self.identity, &credential);
        self.identity += 1;
        self.credential = Some(credential);
        text
    }

    /// Whether nothing is live: no query and no request.
    pub(super) fn idle(&self) -> bool {
        self.queries.is_empty() && self.requests.is_empty()
    }

    /// Records a subscriber of (path, args); the query's id when it is new to the connection, to be added.
    pub(super) fn subscribe(
        &mut self,
        path: String,
        args: Args,
        reply: oneshot::Sender<Subscribed>,
    ) -> Option<u32> {
        let key = format!("{}\u{0}{args}", canonical_path(&path));
        let query_id = match self.keys.get(&key) {
            Some(&id) => id,
            None => {
                let id = self.next_query_id;
                self.next_query_id += 1;
                let (results, _) = watch::channel(Latest::new(Outcome::Pending));
                self.queries.insert(
                    id,
                    Query {
                        path,
                        args,
                        key: key.clone(),
                        subscribers: 0,
                        journal: None,
                        results,
                    },
                );
                self.keys.insert(key, id);
                id
            }
        };
        let query = self.queries.get_mut(&query_id)?;
        query.subscribers += 1;
        let new = query.subscribers == 1;
        let _ = reply.send(Subscribed {
            query_id,
            results: query.results.subscribe(),
        });
        new.then_some(query_id)
    }

    /// Records commands that arrived together, and the messages they make: the queries they add go in one
    /// `ModifyQuerySet`, so that thousands of subscriptions opened at once cost a few messages, not one each.
    pub(super) fn apply_all(&mut self, commands: Vec<Command>) -> Vec<String> {
        let mut out = Vec::new();
        let mut adds = Vec::new();
        for command in commands {
            match command {
                Command::Subscribe { path, args, reply } => {
                    adds.extend(self.subscribe(path, args, reply));
                }
                other => {
                    // In order: the adds before a later removal of one of them.
                    out.extend(self.add_message(&std::mem::take(&mut adds)));
                    out.extend(self.apply(other));
                }
            }
        }
        out.extend(self.add_message(&adds));
        // Requests made by these commands (and any not yet sent on this socket).
        out.extend(self.unsent_requests());
        out
    }

    /// Records a command; a socket, if any, is written by the caller from what changed.
    pub(super) fn apply(&mut self, command: Command) -> Option<String> {
        match command {
            Command::Subscribe { path, args, reply } => {
                let query_id = self.subscribe(path, args, reply)?;
                self.add_message(&[query_id])
            }
            Command::Unsubscribe { query_id } => {
                let query = self.queries.get_mut(&query_id)?;
                query.subscribers = query.subscribers.saturating_sub(1);
                if query.subscribers > 0 {
                    return None;
                }
                let query = self.queries.remove(&query_id)?;
                self.keys.remove(&query.key);
                self.next_version(vec![Modification::Remove { query_id }])
            }
            Command::Request {
                kind,
                path,
                args,
                reply,
            } => {
                let id = self.next_request_id;
                self.next_request_id = self.next_request_id.wrapping_add(1);
                self.requests.insert(
                    id,
                    Request {
                        kind,
                        path,
                        args,
                        state: RequestState::Unsent,
                        sent_before: false,
                        value: None,
                        reply: Some(reply),
                    },
                );
                None
            }
        }
    }

    pub(super) fn add_message(&mut self, query_ids: &[u32]) -> Option<String> {
        // Messages are built only while a socket is up (query_set > 0 after its preamble).
        if self.query_set == 0 || query_ids.is_empty() {
            return None;
        }
        let adds: Vec<Modification<'_>> = query_ids
            .iter()
            .filter_map(|query_id| {
                let query = self.queries.get(query_id)?;
                Some(Modification::Add {
                    query_id: *query_id,
                    path: &query.path,
                    args: &query.args,
                    journal: None,
                })
            })
            .collect();
        let message = protocol::modify_query_set(self.query_set, self.query_set + 1, &adds);
        self.query_set += 1;
        Some(message)
    }

    pub(super) fn next_version(&mut self, modifications: Vec<Modification<'_>>) -> Option<String> {
        if self.query_set == 0 {
            return None;
        }
        let message =
            protocol::modify_query_set(self.query_set, self.query_set + 1, &modifications);
        self.query_set += 1;
        Some(message)
    }

    /// What a new socket starts with, which starts at version 0 on both sides: `Connect`, then the whole
    /// query set in one `ModifyQuerySet` and the requests not yet answered; and the `Authenticate` that goes
    /// right after `Connect`, apart, since it carries the credential (written past tungstenite's trace log).
    pub(super) fn socket_opened(&mut self) -> (Vec<String>, Option<String>) {
        self.remote = StateVersion::default();
        self.identity = 0;
        let mut preamble = vec![protocol::connect(
            &self.session_id,
            self.connection_count,
            &self.last_close_reason,
            self.max_observed,
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
        )];
        self.connection_count += 1;
        let mut secret = None;
        if let Some(credential) = &self.credential {
            secret = Some(protocol::authenticate(0, credential));
            self.identity = 1;
        }
        let adds: Vec<Modification<'_>> = self
            .queries
            .iter()
            .map(|(&query_id, query)| Modification::Add {
                query_id,
                path: &query.path,
                args: &query.args,
                journal: query.journal.as_ref(),
            })
            .collect();
        preamble.push(protocol::modify_query_set(0, 1, &adds));
        self.query_set = 1;
        preamble.extend(self.unsent_requests());
        (preamble, secret)
    }

    pub(super) fn lost(&self, reason: String) -> Lost {
        Lost {
            reason,
            initial: self.settings.initial_backoff,
            refused: false,
            fail: None,
        }
    }

    /// The credential was refused: every query yields it, requests sent on this socket only fail with it,
    /// and requests sent on an earlier one may have run.
    pub(super) fn refused(&mut self, refused: Arc<str>) {
        self.fail_all(Outcome::Refused(refused));
    }

    /// Every query yields `failure`; every pending request fails with it, or with `MayHaveRun` if it was
    /// sent on an earlier socket.
    pub(super) fn fail_all(&mut self, failure: Outcome) {
        self.views.apply(|| {
            for query in self.queries.values() {
                query.publish(failure.clone());
            }
        });
        let ids: Vec<u32> = self.requests.keys().copied().collect();
        for id in ids {
            let sent_before = self.requests.get(&id).is_some_and(|r| r.sent_before);
            let outcome = if sent_before {
                Outcome::MayHaveRun
            } else {
                failure.clone()
            };
            self.complete(id, outcome);
        }
    }

    /// Ends request `id` with `outcome`: the one place a request leaves the connection and its caller is
    /// answered (a caller that gave up is not, and the request goes all the same).
    pub(super) fn complete(&mut self, id: u32, outcome: Outcome) {
        if let Some(request) = self.requests.remove(&id)
            && let Some(reply) = request.reply
        {
            let _ = reply.send(outcome);
        }
    }

    /// The requests not yet sent on this socket, marked sent: mutations (re-sent with their ids) and
    /// actions made while no socket was up.
    pub(super) fn unsent_requests(&mut self) -> Vec<String> {
        if self.query_set == 0 {
            return Vec::new();
        }
        self.requests
            .iter_mut()
            .filter(|(_, r)| r.state == RequestState::Unsent)
            .map(|(&id, request)| {
                request.state = RequestState::Sent;
                let kind = match request.kind {
                    RequestKind::Mutation => "Mutation",
                    RequestKind::Action => "Action",
                };
                protocol::request(kind, id, &request.path, &request.args)
            })
            .collect()
    }

    /// Handles one text frame; `Err` loses the socket.
    pub(super) fn receive(&mut self, text: &str) -> Result<(), Lost> {
        let message =
            protocol::parse(text).map_err(|e| self.lost(format!("the server sent {e}")))?;
        match message {
            ServerMessage::Transition(transition) => self.transition(transition),
            ServerMessage::MutationResponse(response) => {
                self.response(RequestKind::Mutation, response)
            }
            ServerMessage::ActionResponse(response) => self.response(RequestKind::Action, response),
            ServerMessage::AuthError(error) => {
                tracing::warn!(target: "convex_fetch::live", attempted = error.auth_update_attempted, "the deployment refused the credential: {}", error.error);
                // What this socket sent after its `Authenticate` did not run; what an earlier one sent may have.
                self.refused(Arc::from(error.error.as_str()));
                // A source is asked for a fresh token for the next socket.
                self.fresh_token = true;
                Err(self.lost(format!(
                    "the deployment refused the credential: {}",
                    error.error
                )))
            }
            ServerMessage::FatalError { error } => Err(Lost {
                reason: format!("the deployment sent a fatal error: {error}"),
                initial: self.settings.max_backoff,
                refused: false,
                // Every stream and pending request is told, once the socket's requests are counted lost.
                fail: Some(Outcome::Fatal(Arc::from(error.as_str()))),
            }),
            ServerMessage::Ping => Ok(()),
            ServerMessage::Unknown(kind) => {
                tracing::debug!(target: "convex_fetch::live", kind, "skipped a message of an unknown type");
                Ok(())
            }
        }
    }

    pub(super) fn transition(&mut self, transition: Transition) -> Result<(), Lost> {
        let Transition {
            start_version,
            end_version,
            modifications,
        } = transition;
        if start_version != self.remote {
            return Err(self.lost(format!(
                "the server sent a Transition from version {start_version:?} while the client is at {:?}",
                self.remote
            )));
        }
        if end_version.ts < start_version.ts
            || end_version.query_set > self.query_set
            || end_version.identity > self.identity
        {
            return Err(self.lost(format!(
                "the server sent a Transition to version {end_version:?}, which the client never asked for"
            )));
        }
        // All of a Transition's results at once: a query set never reads half of them.
        let views = self.views.clone();
        views.apply(|| self.apply_modifications(modifications));
        self.remote = end_version;
        self.max_observed = Some(self.max_observed.unwrap_or(0).max(end_version.ts));
        // A mutation is final once a Transition reaches its commit.
        self.transition_reached();
        // The deployment answered this socket: its loss starts the backoff over.
        self.healthy = true;
        Ok(())
    }

    pub(super) fn apply_modifications(&mut self, modifications: Vec<QueryModification>) {
        for modification in modifications {
            match modification {
                QueryModification::QueryUpdated {
                    query_id,
                    value,
                    journal,
                    log_lines,
                } => {
                    if let Some(query) = self.queries.get_mut(&query_id) {
                        for line in &log_lines {
                            tracing::debug!(target: "convex_fetch::live", path = %query.path, "{line}");
                        }
                        query.journal = journal;
                        query.publish(Outcome::Value(Arc::new(value)));
                    }
                }
                QueryModification::QueryFailed {
                    query_id,
                    error_message,
                    log_lines,
                    journal,
                    error_data,
                } => {
                    if let Some(query) = self.queries.get_mut(&query_id) {
                        query.journal = journal;
                        query.publish(Outcome::Failed(Arc::new(Failure {
                            message: error_message,
                            data: error_data,
                            log_lines,
                        })));
                    }
                }
                QueryModification::QueryRemoved { .. } => {}
            }
        }
    }

    pub(super) fn response(&mut self, kind: RequestKind, response: Response) -> Result<(), Lost> {
        let id = response.request_id;
        // An unknown or finished id is a late answer to a re-sent request: absorbed.
        let Some(request) = self.requests.get_mut(&id) else {
            return Ok(());
        };
        if request.kind != kind || request.state != RequestState::Sent {
            return Ok(());
        }
        if !response.success {
            let message = match response.result {
                Value::String(message) => message,
                other => other.to_string(),
            };
            let outcome = Outcome::Failed(Arc::new(Failure {
                message,
                data: response.error_data,
                log_lines: response.log_lines,
            }));
            self.complete(id, outcome);
            return Ok(());
        }
        match kind {
            RequestKind::Action => {
                self.complete(id, Outcome::Value(Arc::new(response.result)));
                Ok(())
            }
            RequestKind::Mutation => {
                let ts = response
                    .ts
                    .as_deref()
                    .ok_or_else(|| "no `ts`".to_owned())
                    .and_then(protocol::decode_ts)
                    .map_err(|e| {
                        self.lost(format!(
                            "the server sent a successful MutationResponse with {e}"
                        ))
                    })?;
                let Some(request) = self.requests.get_mut(&id) else {
                    return Ok(());
                };
                request.value = Some(response.result);
                request.state = RequestState::Committed(ts);
                self.max_observed = Some(self.max_observed.unwrap_or(0).max(ts));
                if ts <= self.remote.ts {
                    // Already covered by a Transition seen.
                    self.transition_reached();
                }
                Ok(())
            }
        }
    }

    /// Completes the mutations whose commit the last Transition seen (`remote`) reached.
    pub(super) fn transition_reached(&mut self) {
        let ts = self.remote.ts;
        let done: Vec<(u32, Value)> = self
            .requests
            .iter_mut()
            .filter(|(_, r)| matches!(r.state, RequestState::Committed(c) if c <= ts))
            .map(|(&id, r)| (id, r.value.take().unwrap_or(Value::Null)))
            .collect();
        for (id, value) in done {
            self.complete(id, Outcome::Value(Arc::new(value)));
        }
    }

    /// After a socket ends: actions in flight may have run and are failed; mutations are re-sent on the
    /// next socket with their ids; requests whose caller gave up are dropped.
    pub(super) fn socket_lost(&mut self, reason: &str) {
        self.query_set = 0;
        self.remote = StateVersion::default();
        let ids: Vec<u32> = self.requests.keys().copied().collect();
        for id in ids {
            let Some(request) = self.requests.get_mut(&id) else {
                continue;
            };
            let was_sent = request.state != RequestState::Unsent;
            if request.kind == RequestKind::Action && was_sent {
                tracing::warn!(target: "convex_fetch::live", path = %request.path, "an action was in flight when the connection was lost ({reason})");
                self.complete(id, Outcome::MayHaveRun);
                continue;
            }
            if was_sent {
                request.sent_before = true;
                request.state = RequestState::Unsent;
            }
        }
    }
}

/// What the server keys queries by: the grammar's canonical `module:export` (no `.js`, `default` for a bare
/// module), so that two spellings of one function share a server query. A path the grammar refuses keeps its
/// own text: the server refuses it in the query's answer.
fn canonical_path(path: &str) -> String {
    crate::grammar::FunctionPath::parse(path)
        .map_or_else(|_| path.to_owned(), |path| path.canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session with no socket, driven by hand through what its socket would do.
    fn session() -> Session {
        Session::new(Arc::default(), LiveSettings::default(), None)
    }

    /// What happens to a request, in order.
    #[derive(Debug, Clone, Copy)]
    enum Step {
        /// A socket is up: the requests not sent on it are; how many is checked.
        SocketUp {
            sends: usize,
        },
        /// The deployment answers: success with this commit timestamp (mutations), or failure.
        Answer {
            ts: Option<u64>,
        },
        Failed,
        /// A Transition to this timestamp.
        Transition(u64),
        /// The socket is lost.
        Lost,
        /// The deployment refuses the session for good.
        Fatal,
    }

    /// How the request's caller was answered at the end.
    #[derive(Debug, PartialEq)]
    enum Ended {
        Pending,
        Value,
        Failed,
        MayHaveRun,
        Fatal,
    }

    fn run(kind: RequestKind, steps: &[Step]) -> Ended {
        let mut w = session();
        let (reply, mut answer) = oneshot::channel();
        w.apply(Command::Request {
            kind,
            path: "posts:create".to_owned(),
            args: raw(serde_json::json!({})),
            reply,
        });
        let kind_name = match kind {
            RequestKind::Mutation => "Mutation",
            RequestKind::Action => "Action",
        };
        for step in steps {
            match *step {
                Step::SocketUp { sends } => {
                    w.query_set = 1;
                    let sent = w.unsent_requests();
                    assert_eq!(sent.len(), sends, "{step:?}: {sent:?}");
                    for message in sent {
                        // Always request 0: a re-sent mutation keeps its id, which the deployment deduplicates.
                        assert!(message.contains("\"requestId\":0"), "{message}");
                        assert!(message.contains(kind_name), "{message}");
                    }
                }
                Step::Answer { ts } => {
                    let response = Response {
                        request_id: 0,
                        success: true,
                        result: serde_json::json!("an id"),
                        ts: ts.map(protocol::encode_ts),
                        log_lines: Vec::new(),
                        error_data: None,
                    };
                    w.response(kind, response)
                        .map_err(|l| l.reason)
                        .expect("accepted");
                }
                Step::Failed => {
                    let response = Response {
                        request_id: 0,
                        success: false,
                        result: serde_json::json!("boom"),
                        ts: None,
                        log_lines: Vec::new(),
                        error_data: None,
                    };
                    w.response(kind, response)
                        .map_err(|l| l.reason)
                        .expect("accepted");
                }
                Step::Transition(ts) => {
                    let start = w.remote;
                    let end = StateVersion { ts, ..start };
                    w.transition(Transition {
                        start_version: start,
                        end_version: end,
                        modifications: Vec::new(),
                    })
                    .map_err(|l| l.reason)
                    .expect("in order");
                }
                Step::Lost => w.socket_lost("test"),
                Step::Fatal => w.fail_all(Outcome::Fatal(Arc::from("gone"))),
            }
        }
        let ended = match answer.try_recv() {
            Err(oneshot::error::TryRecvError::Empty) => Ended::Pending,
            Err(oneshot::error::TryRecvError::Closed) => {
                panic!("the request was dropped unanswered")
            }
            Ok(Outcome::Value(value)) => {
                assert_eq!(*value, serde_json::json!("an id"));
                Ended::Value
            }
            Ok(Outcome::Failed(failure)) => {
                assert_eq!(failure.message, "boom");
                Ended::Failed
            }
            Ok(Outcome::MayHaveRun) => Ended::MayHaveRun,
            Ok(Outcome::Fatal(_)) => Ended::Fatal,
            Ok(other) => panic!("unexpected {other:?}"),
        };
        // An answered request has left the connection; a pending one has not.
        assert_eq!(w.requests.is_empty(), ended != Ended::Pending);
        ended
    }

    #[test]
    fn a_request_is_completed_once_whatever_its_path() {
        use RequestKind::{Action, Mutation};
        use Step::*;
        let cases: &[(&str, RequestKind, &[Step], Ended)] = &[
            (
                "a mutation waits for a Transition that reaches its commit",
                Mutation,
                &[SocketUp { sends: 1 }, Answer { ts: Some(5) }, Transition(4)],
                Ended::Pending,
            ),
            (
                "then completes with it",
                Mutation,
                &[SocketUp { sends: 1 }, Answer { ts: Some(5) }, Transition(5)],
                Ended::Value,
            ),
            (
                "an answer after a Transition past its commit completes it at once",
                Mutation,
                &[SocketUp { sends: 1 }, Transition(9), Answer { ts: Some(5) }],
                Ended::Value,
            ),
            (
                "a mutation lost mid-flight is re-sent with its id and completes on the next socket",
                Mutation,
                &[
                    SocketUp { sends: 1 },
                    Lost,
                    SocketUp { sends: 1 },
                    Answer { ts: Some(3) },
                    Transition(3),
                ],
                Ended::Value,
            ),
            (
                "a mutation lost mid-flight, then refused for good, may have run",
                Mutation,
                &[SocketUp { sends: 1 }, Lost, Fatal],
                Ended::MayHaveRun,
            ),
            (
                "a mutation never sent, refused for good, gets the refusal",
                Mutation,
                &[Fatal],
                Ended::Fatal,
            ),
            (
                "a failed mutation",
                Mutation,
                &[SocketUp { sends: 1 }, Failed],
                Ended::Failed,
            ),
            (
                "a mutation committed but unconfirmed when the socket goes is re-sent",
                Mutation,
                &[
                    SocketUp { sends: 1 },
                    Answer { ts: Some(7) },
                    Lost,
                    SocketUp { sends: 1 },
                ],
                Ended::Pending,
            ),
            (
                "an action completes with its answer",
                Action,
                &[SocketUp { sends: 1 }, Answer { ts: None }],
                Ended::Value,
            ),
            (
                "an action in flight when the socket goes may have run, and is not re-sent",
                Action,
                &[SocketUp { sends: 1 }, Lost, SocketUp { sends: 0 }],
                Ended::MayHaveRun,
            ),
            (
                "an action not yet sent is sent on the first socket",
                Action,
                &[Lost, SocketUp { sends: 1 }],
                Ended::Pending,
            ),
        ];
        for (name, kind, steps, expected) in cases {
            assert_eq!(&run(*kind, steps), expected, "{name}");
        }
    }

    /// Subscribes to `posts:list` with `args` by hand: the message the worker would write, and the results.
    fn subscribe(w: &mut Session, args: Value) -> (Option<String>, Subscribed) {
        let (reply, subscribed) = oneshot::channel();
        let message = w.apply(Command::Subscribe {
            path: "posts:list".to_owned(),
            args: raw(args),
            reply,
        });
        (message, subscribed.blocking_recv().expect("subscribed"))
    }

    /// Args as the socket carries them.
    fn raw(args: Value) -> Args {
        serde_json::value::RawValue::from_string(args.to_string()).expect("JSON")
    }

    fn json(text: &str) -> Value {
        serde_json::from_str(text).expect("the worker writes JSON")
    }

    /// A Transition of the server from `from` to `to` (query set, identity, ts) updating query 0 to `value`.
    fn transition(from: (u32, u32, u64), to: (u32, u32, u64), value: Value) -> String {
        let version = |(query_set, identity, ts): (u32, u32, u64)| serde_json::json!({ "querySet": query_set, "identity": identity, "ts": protocol::encode_ts(ts) });
        serde_json::json!({
            "type": "Transition",
            "startVersion": version(from),
            "endVersion": version(to),
            "modifications": [{ "type": "QueryUpdated", "queryId": 0, "value": value, "logLines": [] }],
        })
        .to_string()
    }

    #[test]
    fn subscriptions_changed_while_disconnected_go_as_one_query_set_on_reconnect() {
        let mut w = session();
        let (message, a) = subscribe(&mut w, serde_json::json!({ "n": 1 }));
        assert_eq!(message, None, "no socket: nothing is written");
        let (_, b) = subscribe(&mut w, serde_json::json!({ "n": 2 }));
        let (_, c) = subscribe(&mut w, serde_json::json!({ "n": 3 }));
        // A second subscriber of the first query shares it.
        let (message, a2) = subscribe(&mut w, serde_json::json!({ "n": 1 }));
        assert_eq!((message, a2.query_id), (None, a.query_id));
        assert_eq!(
            w.apply(Command::Unsubscribe {
                query_id: b.query_id
            }),
            None
        );
        // The first subscriber of the first query leaves; the second keeps it.
        assert_eq!(
            w.apply(Command::Unsubscribe {
                query_id: a.query_id
            }),
            None
        );

        let (preamble, secret) = w.socket_opened();
        assert_eq!(secret, None, "no credential");
        assert_eq!(json(&preamble[0])["type"], "Connect");
        let set = json(&preamble[1]);
        assert_eq!(
            (set["baseVersion"].as_u64(), set["newVersion"].as_u64()),
            (Some(0), Some(1))
        );
        let ids: Vec<u64> = set["modifications"]
            .as_array()
            .expect("modifications")
            .iter()
            .map(|m| m["queryId"].as_u64().expect("an id"))
            .collect();
        assert_eq!(ids, [u64::from(a.query_id), u64::from(c.query_id)]);
        assert_eq!(preamble.len(), 2);

        // Once connected, each change is its own next version.
        let (message, _d) = subscribe(&mut w, serde_json::json!({ "n": 4 }));
        let add = json(&message.expect("an Add"));
        assert_eq!(
            (add["baseVersion"].as_u64(), add["newVersion"].as_u64()),
            (Some(1), Some(2))
        );
        let remove = json(
            &w.apply(Command::Unsubscribe {
                query_id: c.query_id,
            })
            .expect("a Remove"),
        );
        assert_eq!(remove["modifications"][0]["type"], "Remove");
        assert_eq!(remove["newVersion"].as_u64(), Some(3));
    }

    #[test]
    fn a_transition_out_of_order_or_past_the_query_set_loses_the_socket() {
        let mut w = session();
        let (_, query) = subscribe(&mut w, serde_json::json!({}));
        let _ = w.socket_opened();
        // From a version the client is not at.
        let lost = w
            .receive(&transition((0, 0, 5), (1, 0, 6), Value::from(1)))
            .err();
        assert!(lost.is_some_and(|l| l.reason.contains("from version")));
        // To a query set the client never sent (it sent 1).
        let lost = w
            .receive(&transition((0, 0, 0), (2, 0, 6), Value::from(1)))
            .err();
        assert!(lost.is_some_and(|l| l.reason.contains("never asked for")));
        // Backwards in time.
        let _ = w.receive(&transition((0, 0, 0), (1, 0, 6), Value::from(1)));
        let lost = w
            .receive(&transition((1, 0, 6), (1, 0, 2), Value::from(2)))
            .err();
        assert!(lost.is_some_and(|l| l.reason.contains("never asked for")));
        // The one in order was applied, the bad ones not.
        assert!(matches!(&query.results.borrow().outcome, Outcome::Value(v) if **v == 1));
        assert_eq!(w.remote.ts, 6);
    }

    /// The backend folds the query-set changes that arrive while it computes an update into one
    /// Transition, so `endVersion.querySet` may pass several versions at once.
    #[test]
    fn a_transition_may_jump_over_query_set_versions_the_client_sent() {
        let mut w = session();
        let (_, a) = subscribe(&mut w, serde_json::json!({ "n": 1 }));
        let (preamble, _) = w.socket_opened();
        assert_eq!(json(&preamble[1])["newVersion"].as_u64(), Some(1));
        let (message, b) = subscribe(&mut w, serde_json::json!({ "n": 2 }));
        assert_eq!(
            json(&message.expect("an Add"))["newVersion"].as_u64(),
            Some(2)
        );
        let (message, c) = subscribe(&mut w, serde_json::json!({ "n": 3 }));
        assert_eq!(
            json(&message.expect("an Add"))["newVersion"].as_u64(),
            Some(3)
        );
        // One Transition from query set 0 to 3: all three queries' first values.
        let version = |query_set: u32, ts: u64| serde_json::json!({ "querySet": query_set, "identity": 0, "ts": protocol::encode_ts(ts) });
        let updated = |id: u32, value: i32| serde_json::json!({ "type": "QueryUpdated", "queryId": id, "value": value, "logLines": [] });
        let jump = serde_json::json!({
            "type": "Transition",
            "startVersion": version(0, 0),
            "endVersion": version(3, 4),
            "modifications": [updated(a.query_id, 1), updated(b.query_id, 2), updated(c.query_id, 3)],
        });
        w.receive(&jump.to_string())
            .map_err(|l| l.reason)
            .expect("a jump to a version the client sent is in order");
        for (query, expected) in [(&a, 1), (&b, 2), (&c, 3)] {
            assert!(
                matches!(&query.results.borrow().outcome, Outcome::Value(v) if **v == expected),
                "query {} has its first value",
                query.query_id
            );
        }
        // The next change is version 4, from 3.
        let remove = json(
            &w.apply(Command::Unsubscribe {
                query_id: b.query_id,
            })
            .expect("a Remove"),
        );
        assert_eq!(
            (
                remove["baseVersion"].as_u64(),
                remove["newVersion"].as_u64()
            ),
            (Some(3), Some(4))
        );
    }

    #[test]
    fn a_refused_token_fails_the_queries_until_a_socket_accepts_the_next() {
        let mut w = session();
        w.credential = Some(Credential::User("a token".to_owned()));
        let (_, query) = subscribe(&mut w, serde_json::json!({}));
        let (_, secret) = w.socket_opened();
        let secret = json(&secret.expect("an Authenticate"));
        assert_eq!(secret["type"], "Authenticate");
        let lost = w
            .receive(r#"{"type":"AuthError","error":"expired","baseVersion":0}"#)
            .expect_err("the socket is lost");
        assert!(lost.reason.contains("expired"), "{}", lost.reason);
        assert!(w.fresh_token, "the next socket asks for a fresh token");
        assert!(
            matches!(&query.results.borrow().outcome, Outcome::Refused(m) if &**m == "expired")
        );
        w.socket_lost(&lost.reason);
        // The next socket's token is accepted: the query has a value again.
        let (preamble, secret) = w.socket_opened();
        assert!(secret.is_some());
        assert_eq!(json(&preamble[1])["modifications"][0]["queryId"], 0);
        w.receive(&transition((0, 0, 0), (1, 1, 3), Value::from("fresh")))
            .map_err(|l| l.reason)
            .expect("in order");
        assert!(matches!(&query.results.borrow().outcome, Outcome::Value(v) if **v == "fresh"));
    }

    #[test]
    fn paths_are_keyed_canonically() {
        assert_eq!(canonical_path("posts.js:list"), "posts:list");
        assert_eq!(canonical_path("posts"), "posts:default");
        assert_eq!(canonical_path("v1.api/posts.js:list"), "v1.api/posts:list");
        assert_eq!(canonical_path("posts:list:x"), "posts:list:x");
    }
}
