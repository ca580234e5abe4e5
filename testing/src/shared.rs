//! What the running server shares with the handle: the registered functions, credentials, the recorder, faults
//! and latency, the timestamp, the routes, the files and the sync protocol's state. Every front reads it.

use super::fault::Fault;
use super::handler::Registered;
use super::live_state::Live;
use super::record::Recorder;
use super::routes::Routes;
use super::state::States;
use super::storage::Files;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What the running server shares with the [`TestDeployment`](super::TestDeployment) handle.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) functions: HashMap<String, Registered>,
    pub(crate) admin_key: String,
    pub(crate) tokens: HashMap<String, Value>,
    pub(crate) recorder: Mutex<Recorder>,
    pub(crate) faults: Mutex<VecDeque<Fault>>,
    pub(crate) latency: Mutex<Duration>,
    /// The deployment's latest timestamp, in nanoseconds since the Unix epoch as the backend's: it follows
    /// the clock and moves at least one step at each mutation's commit and each `/api/query_ts`.
    pub(crate) ts: AtomicU64,
    /// How long a timestamp can be queried at.
    pub(crate) snapshot_lifetime: Duration,
    /// Function errors as production sends them: the request id alone.
    pub(crate) redact_errors: bool,
    /// Counts requests, for their ids.
    pub(crate) request_ids: AtomicU64,
    /// What the builder's `state` registered, handed to handlers through their `Ctx`.
    pub(crate) states: Arc<States>,
    /// The HTTP actions, served under `/http`.
    pub(crate) routes: Routes,
    /// File storage.
    pub(crate) files: Arc<Files>,
    /// The sync protocol's sessions: commits wake them, faults strike them, mutations are deduplicated.
    pub(crate) live: Live,
    /// The deployment the functions run on when they are not registered here: the JS deployment's Node
    /// server, behind its front.
    pub(crate) upstream: Option<Upstream>,
}

impl Shared {
    /// Moves the timestamp on, to the clock or one step past the last, and returns it.
    pub(crate) fn advance_ts(&self) -> u64 {
        let now = now_ns();
        let previous = self
            .ts
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |ts| {
                Some(now.max(ts + 1))
            })
            .unwrap_or_default();
        now.max(previous + 1)
    }

    /// Commits a mutation: moves the timestamp on and wakes every session to re-run its queries at it.
    /// Returns the commit's timestamp.
    pub(crate) fn commit(&self) -> u64 {
        let ts = self.advance_ts();
        self.live.committed(ts);
        ts
    }

    /// Whether a query at `ts` is past the backend's transaction window.
    pub(crate) fn expired(&self, ts: u64) -> bool {
        let age = now_ns().saturating_sub(ts);
        u128::from(age) > self.snapshot_lifetime.as_nanos()
    }

    /// A function failure's `errorMessage` as the backend writes it: `[Request ID: <16 hex>] Server Error`,
    /// then, unless redacted, a newline, `text` and a newline.
    pub(crate) fn error_message(&self, text: &str) -> String {
        use std::hash::{BuildHasher, RandomState};
        // Unique and unpredictable-looking, like the backend's, without a random number crate.
        let n = self.request_ids.fetch_add(1, Ordering::Relaxed);
        let id = RandomState::new().hash_one(n);
        let prefix = format!("[Request ID: {id:016x}] Server Error");
        if self.redact_errors {
            prefix
        } else {
            format!("{prefix}\n{text}\n")
        }
    }
}

/// A deployment the functions run on, reached over its HTTP API (`upstream.rs` runs them there).
#[derive(Debug)]
pub(crate) struct Upstream {
    /// Its API URL.
    pub(crate) url: String,
    pub(crate) http: reqwest::Client,
}

pub(crate) fn now_ns() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since_epoch.as_nanos()).unwrap_or(u64::MAX)
}
