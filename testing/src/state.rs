//! State shared by the handlers of a test deployment, registered once on the builder.

use crate::function_error::FunctionError;
use std::any::{Any, TypeId, type_name};
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The values given to [`TestDeploymentBuilder::state`](crate::TestDeploymentBuilder::state), one per type,
/// each behind its own lock, and how many times a writer locked one.
#[derive(Default)]
pub(crate) struct States {
    values: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
    /// Counts the locks taken by anything but a query (a mutation, an action, the test), which may write:
    /// a live update's queries are re-run until none was taken while they ran, so that they read one state,
    /// as the backend's read one snapshot.
    writes: AtomicU64,
}

impl States {
    /// Registers `value`, replacing a state of the same type.
    pub(crate) fn insert<S: Send + 'static>(&mut self, value: S) {
        self.values
            .insert(TypeId::of::<S>(), Box::new(Mutex::new(value)));
    }

    /// The state of type `S`, locked for a `writer` or a query; an error naming the type when none was
    /// registered.
    pub(crate) fn get<S: Send + 'static>(
        &self,
        writer: bool,
    ) -> Result<MutexGuard<'_, S>, FunctionError> {
        let mutex = self
            .values
            .get(&TypeId::of::<S>())
            .and_then(|state| state.downcast_ref::<Mutex<S>>())
            .ok_or_else(|| {
                FunctionError::message(format!(
                    "the test deployment has no state of type `{}`: register it with \
                     `TestDeployment::builder().state(…)`",
                    type_name::<S>()
                ))
            })?;
        let guard = mutex.lock().unwrap_or_else(PoisonError::into_inner);
        // Counted once the lock is held: a reader that saw the count before either ran before this writer
        // took the lock or waits for it to let go, and a reader after it sees the new count.
        if writer {
            self.writes.fetch_add(1, Ordering::SeqCst);
        }
        Ok(guard)
    }

    /// How many times a writer has locked a state.
    pub(crate) fn writes(&self) -> u64 {
        self.writes.load(Ordering::SeqCst)
    }
}

impl fmt::Debug for States {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "States({} registered)", self.values.len())
    }
}
