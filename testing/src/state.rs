//! State shared by the handlers of a test deployment, registered once on the builder.

use crate::function_error::FunctionError;
use std::any::{Any, TypeId, type_name};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The values given to [`TestDeploymentBuilder::state`](crate::TestDeploymentBuilder::state), one per type,
/// each behind its own lock.
#[derive(Default)]
pub(crate) struct States(HashMap<TypeId, Box<dyn Any + Send + Sync>>);

impl States {
    /// Registers `value`, replacing a state of the same type.
    pub(crate) fn insert<S: Send + 'static>(&mut self, value: S) {
        self.0
            .insert(TypeId::of::<S>(), Box::new(Mutex::new(value)));
    }

    /// The state of type `S`, locked; an error naming the type when none was registered.
    pub(crate) fn get<S: Send + 'static>(&self) -> Result<MutexGuard<'_, S>, FunctionError> {
        let mutex = self
            .0
            .get(&TypeId::of::<S>())
            .and_then(|state| state.downcast_ref::<Mutex<S>>())
            .ok_or_else(|| {
                FunctionError::message(format!(
                    "the test deployment has no state of type `{}`: register it with \
                     `TestDeployment::builder().state(…)`",
                    type_name::<S>()
                ))
            })?;
        Ok(mutex.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl fmt::Debug for States {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "States({} registered)", self.0.len())
    }
}
