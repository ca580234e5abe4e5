//! What the running deployment keeps of the sync protocol, shared by every session: the latest commit that
//! wakes them, the queued faults, the deduplicated mutations, the refused tokens and the recorded messages.
//! `live.rs` serves the sessions.

use super::lock;
use super::outcome::{Ran, Threw};
use futures_util::future::{BoxFuture, Shared as SharedFuture};
use serde_json::Value;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// A fault of the sync socket, queued with
/// [`TestDeployment::fail_next_sync`](super::TestDeployment::fail_next_sync). The first session about to
/// send a message (a Transition, a response, an `AuthError`; not a `Ping`) takes the fault at the front of
/// the queue; `DropOnMutation` waits for the next `Mutation` instead.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncFault {
    /// Drops the connection (no close frame: the client sees 1006) instead of sending the message.
    Drop,
    /// Closes the socket with this code and reason instead of sending the message.
    Close {
        /// The close code (1011, 1013, 4040…).
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// Sends the message after this delay.
    Delay(Duration),
    /// Sends nothing more on this socket, pings included, and keeps it open: a server gone silent.
    Silence,
    /// Drops the connection when the next `Mutation` arrives, before running it.
    DropOnMutation,
}

/// A socket mutation by (session id, request id): its run, started once and awaited by every send of it.
/// It is entered before the handler runs and kept once it succeeded, so a request re-sent while it runs,
/// or after, waits for that one run instead of starting another, as the backend's `_session_requests`
/// record, written in the mutation's own transaction, makes it. A failed run is removed: the backend
/// records only successes, so a re-sent failed mutation runs again.
pub(crate) type SessionRequest = SharedFuture<BoxFuture<'static, Result<Ran, Threw>>>;

/// What the running deployment keeps of the sync protocol.
#[derive(Debug)]
pub(crate) struct Live {
    /// The latest commit's timestamp; every session watches it.
    pub(crate) commits: watch::Sender<u64>,
    /// Bumped to drop every socket.
    pub(crate) kill: watch::Sender<u64>,
    pub(crate) faults: Mutex<VecDeque<SyncFault>>,
    /// Socket mutations by (session id, request id), running or succeeded.
    pub(crate) done: Mutex<HashMap<(String, u32), SessionRequest>>,
    pub(crate) refused: Mutex<HashSet<String>>,
    pub(crate) messages: Mutex<VecDeque<Value>>,
    pub(crate) opened: AtomicU64,
    pub(crate) open: AtomicU64,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            commits: watch::channel(0).0,
            kill: watch::channel(0).0,
            faults: Mutex::default(),
            done: Mutex::default(),
            refused: Mutex::default(),
            messages: Mutex::default(),
            opened: AtomicU64::new(0),
            open: AtomicU64::new(0),
        }
    }
}

impl Live {
    /// A mutation committed at `ts`: every session re-runs its queries.
    pub(crate) fn committed(&self, ts: u64) {
        self.commits
            .send_modify(|latest| *latest = (*latest).max(ts));
    }

    pub(crate) fn fail_next(&self, fault: SyncFault) {
        lock(&self.faults).push_back(fault);
    }

    pub(crate) fn pending_faults(&self) -> usize {
        lock(&self.faults).len()
    }

    pub(crate) fn drop_all(&self) {
        self.kill.send_modify(|n| *n += 1);
    }

    pub(crate) fn refuse(&self, token: String) {
        lock(&self.refused).insert(token);
    }

    pub(crate) fn messages(&self) -> Vec<Value> {
        lock(&self.messages).iter().cloned().collect()
    }

    pub(crate) fn opened(&self) -> u64 {
        self.opened.load(Ordering::SeqCst)
    }

    pub(crate) fn open(&self) -> u64 {
        self.open.load(Ordering::SeqCst)
    }

    /// The fault at the front of the queue, taken if `take` accepts it.
    pub(crate) fn take_fault(&self, take: impl Fn(&SyncFault) -> bool) -> Option<SyncFault> {
        let mut faults = lock(&self.faults);
        if faults.front().is_some_and(take) {
            faults.pop_front()
        } else {
            None
        }
    }
}
