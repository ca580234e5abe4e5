//! The requests a test deployment received, kept in a bounded ring buffer, and how often each handler ran.

use super::auth::Auth;
use super::path::FunctionPath;
use super::routes::RecordedHttpRequest;
use convex_fetch::FunctionKind;
use convex_fetch::value::Value;
use serde::de::DeserializeOwned;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// One request that named a function, as the deployment received it, whether or not the function ran
/// (refused auth, a fault, a failed validation and an unknown path are all recorded).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RecordedCall {
    /// The kind of the endpoint (`/api/query_at_ts` is a query). For `/api/run/…` and `/api/function`, the
    /// kind of the function registered at the path, or `Query` when there is none.
    pub kind: FunctionKind,
    /// The function path, normalized to `module:export` (`posts.js:list` is recorded as `posts:list`).
    pub path: String,
    /// The args as received, with their Convex types (an int64 is a `Value::Int64`, bytes are
    /// `Value::Bytes`): `{}` when absent, the object itself when sent in the legacy one-element array. Args
    /// that are not valid Convex-encoded JSON (a malformed `$integer`, a field name starting with `$`) are kept
    /// as the plain JSON they were, their `$` objects as ordinary objects.
    pub args: Value,
    /// How the request authenticated.
    pub auth: Auth,
    /// The URL path the request was sent to: `/api/mutation`, `/api/run/messages/list`.
    pub endpoint: String,
}

impl RecordedCall {
    /// The args decoded into `T` with the Convex codec.
    pub fn decode_args<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        self.args.deserialize_into()
    }
}

/// The recorded calls and the execution counts.
#[derive(Debug)]
pub(crate) struct Recorder {
    capacity: usize,
    calls: VecDeque<RecordedCall>,
    http: VecDeque<RecordedHttpRequest>,
    dropped: u64,
    executions: HashMap<String, usize>,
    /// Woken at each recorded call, for `wait_for_call`.
    arrived: Arc<Notify>,
}

impl Recorder {
    pub(crate) fn new(capacity: usize) -> Recorder {
        Recorder {
            capacity,
            calls: VecDeque::with_capacity(capacity.min(1024)),
            http: VecDeque::new(),
            dropped: 0,
            executions: HashMap::new(),
            arrived: Arc::new(Notify::new()),
        }
    }

    /// Records a call, dropping the oldest when full.
    pub(crate) fn record(&mut self, call: RecordedCall) {
        push_bounded(&mut self.calls, call, self.capacity, &mut self.dropped);
        self.arrived.notify_waiters();
    }

    /// Records a request to the site URL, within the same capacity as calls (counted apart).
    pub(crate) fn record_http(&mut self, request: RecordedHttpRequest) {
        push_bounded(&mut self.http, request, self.capacity, &mut self.dropped);
    }

    pub(crate) fn http_requests(&self) -> Vec<RecordedHttpRequest> {
        self.http.iter().cloned().collect()
    }

    pub(crate) fn executed(&mut self, path: &str) {
        *self.executions.entry(path.to_owned()).or_default() += 1;
    }

    pub(crate) fn calls(&self) -> Vec<RecordedCall> {
        self.calls.iter().cloned().collect()
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped
    }

    pub(crate) fn executions(&self, path: &str) -> usize {
        self.executions.get(path).copied().unwrap_or(0)
    }

    pub(crate) fn clear(&mut self) {
        self.calls.clear();
        self.http.clear();
        self.dropped = 0;
        self.executions.clear();
    }
}

/// Appends `item`, dropping the oldest items (and, with no room at all, `item` itself) to keep within
/// `capacity`, counting each dropped one.
fn push_bounded<T>(queue: &mut VecDeque<T>, item: T, capacity: usize, dropped: &mut u64) {
    if capacity == 0 {
        *dropped += 1;
        return;
    }
    while queue.len() >= capacity {
        queue.pop_front();
        *dropped += 1;
    }
    queue.push_back(item);
}

/// The oldest recorded call to `path`, waiting up to `timeout` for one to arrive.
pub(crate) async fn wait_for_call(
    recorder: &Mutex<Recorder>,
    path: &str,
    timeout: Duration,
) -> Result<RecordedCall, CallTimeout> {
    // Recorded paths are canonical (`posts.js:list` is `posts:list`); an invalid one matches nothing.
    let path = FunctionPath::parse(path).map_or_else(|_| path.to_owned(), |p| p.canonical());
    let deadline = tokio::time::Instant::now() + timeout;
    let arrived = super::lock(recorder).arrived.clone();
    loop {
        // Registered before looking, so that a call recorded in between still wakes this wait.
        let notified = arrived.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let recorded = {
            let recorder = super::lock(recorder);
            match recorder.calls.iter().find(|call| call.path == path) {
                Some(call) => return Ok(call.clone()),
                None => recorder
                    .calls
                    .iter()
                    .map(|call| call.path.clone())
                    .collect(),
            }
        };
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return Err(CallTimeout {
                path,
                waited: timeout,
                recorded,
            });
        }
    }
}

/// No call to the awaited function arrived in time; says which calls did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallTimeout {
    /// The path waited for.
    pub path: String,
    /// How long the wait lasted.
    pub waited: Duration,
    /// The paths of the calls recorded meanwhile, oldest first.
    pub recorded: Vec<String>,
}

impl fmt::Display for CallTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no call to `{}` within {:?}", self.path, self.waited)?;
        if self.recorded.is_empty() {
            f.write_str("; no calls were recorded")
        } else {
            write!(f, "; recorded: {}", self.recorded.join(", "))
        }
    }
}

impl std::error::Error for CallTimeout {}
