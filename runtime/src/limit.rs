//! Caps on how many calls of one client talk to the deployment at once, in total and per kind, and the queue
//! of a client that runs its mutations one at a time.

use crate::error::Error;
use crate::function::FunctionKind;
use std::fmt;
use std::time::Instant;
use tokio::sync::{Semaphore, SemaphorePermit};

/// The caps of one client: none by default.
#[derive(Default)]
pub(crate) struct InFlight {
    total: Option<Cap>,
    /// Indexed by [`index`].
    per_kind: [Option<Cap>; 3],
    /// One mutation at a time, in the order they were first polled, for the whole call (retries included).
    ordered_mutations: Option<Semaphore>,
    /// A limit of 0, which no call could ever get past; reported when the client is built.
    zero: Option<&'static str>,
}

struct Cap {
    limit: usize,
    slots: Semaphore,
}

/// The slots one attempt holds, given back when it is dropped.
pub(crate) struct Slots<'a> {
    _kind: Option<SemaphorePermit<'a>>,
    _total: Option<SemaphorePermit<'a>>,
}

fn index(kind: FunctionKind) -> usize {
    match kind {
        FunctionKind::Query => 0,
        FunctionKind::Mutation => 1,
        FunctionKind::Action => 2,
    }
}

impl Cap {
    fn new(limit: usize) -> Cap {
        Cap {
            limit,
            // A limit beyond what a semaphore holds is no limit in practice.
            slots: Semaphore::new(limit.min(Semaphore::MAX_PERMITS)),
        }
    }

    async fn take(&self) -> Option<SemaphorePermit<'_>> {
        if let Ok(permit) = self.slots.try_acquire() {
            return Some(permit);
        }
        let waiting = Instant::now();
        // The semaphore is never closed, so `acquire` only ever succeeds.
        let permit = self.slots.acquire().await.ok();
        tracing::debug!(
            limit = self.limit,
            waited_ms = waiting.elapsed().as_secs_f64() * 1000.0,
            "waited for a free slot of the client's in-flight limit"
        );
        permit
    }
}

impl InFlight {
    pub(crate) fn set_total(&mut self, limit: usize) {
        self.cap(limit, "max_in_flight", |caps| &mut caps.total);
    }

    pub(crate) fn set_for(&mut self, kind: FunctionKind, limit: usize) {
        self.cap(limit, "max_in_flight_of", |caps| {
            &mut caps.per_kind[index(kind)]
        });
    }

    fn cap(
        &mut self,
        limit: usize,
        setting: &'static str,
        at: impl FnOnce(&mut Self) -> &mut Option<Cap>,
    ) {
        if limit == 0 {
            self.zero = Some(setting);
        }
        *at(self) = Some(Cap::new(limit));
    }

    pub(crate) fn order_mutations(&mut self) {
        self.ordered_mutations = Some(Semaphore::new(1));
    }

    /// For a mutation on a client that orders them, waits for the mutations before it to finish: tokio's
    /// semaphore queues waiters first come, first served.
    pub(crate) async fn take_turn(&self, kind: FunctionKind) -> Option<SemaphorePermit<'_>> {
        match (&self.ordered_mutations, kind) {
            // The semaphore is never closed, so `acquire` only ever succeeds.
            (Some(turn), FunctionKind::Mutation) => turn.acquire().await.ok(),
            _ => None,
        }
    }

    /// The caps, or a `Config` error for a limit no call could get past.
    pub(crate) fn build(self) -> Result<InFlight, Error> {
        match self.zero {
            Some(setting) => Err(Error::config(format!(
                "`{setting}(0)` would let no call through: give a limit of at least 1"
            ))),
            None => Ok(self),
        }
    }

    /// Waits for a slot for a call of `kind`: its kind's first, then one of the total, always in this order so
    /// that two calls cannot each hold the slot the other waits for.
    pub(crate) async fn take(&self, kind: FunctionKind) -> Slots<'_> {
        let kind_slot = match &self.per_kind[index(kind)] {
            Some(cap) => cap.take().await,
            None => None,
        };
        let total_slot = match &self.total {
            Some(cap) => cap.take().await,
            None => None,
        };
        Slots {
            _kind: kind_slot,
            _total: total_slot,
        }
    }
}

impl fmt::Debug for InFlight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let limit = |cap: &Option<Cap>| cap.as_ref().map(|cap| cap.limit);
        f.debug_struct("InFlight")
            .field("total", &limit(&self.total))
            .field("query", &limit(&self.per_kind[0]))
            .field("mutation", &limit(&self.per_kind[1]))
            .field("action", &limit(&self.per_kind[2]))
            .field("ordered_mutations", &self.ordered_mutations.is_some())
            .finish()
    }
}
