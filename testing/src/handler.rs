//! Handlers: Rust functions standing in for Convex functions, type-erased and registered.

use super::ctx::Ctx;
use super::function_error::FunctionError;
use convex_fetch::FunctionKind;
use convex_fetch::value::Value;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A handler's run: the result, or what it threw.
pub(crate) type Running = Pin<Box<dyn Future<Output = Result<Value, FunctionError>> + Send>>;

/// A handler with its types erased: decodes the args (`Err` with serde's message when they do not fit) and
/// starts the run. Args and result travel as [`Value`]s, so a handler written with `Value` gets exactly what
/// was sent and sends back exactly what it returns.
pub(crate) type Handler = Arc<dyn Fn(Ctx, &Value) -> Result<Running, String> + Send + Sync>;

/// Erases the types of a handler.
pub(crate) fn erase<A, O, F, Fut>(handler: F) -> Handler
where
    F: Fn(Ctx, A) -> Fut + Send + Sync + 'static,
    A: DeserializeOwned,
    Fut: Future<Output = Result<O, FunctionError>> + Send + 'static,
    O: Serialize,
{
    Arc::new(move |ctx, args| {
        let args: A = args.deserialize_into().map_err(|e| e.to_string())?;
        let run = handler(ctx, args);
        Ok(Box::pin(async move {
            let output = run.await?;
            Value::from_serialize(&output).map_err(|e| {
                FunctionError::message(format!(
                    "the handler's return value could not be encoded for Convex: {e}"
                ))
            })
        }))
    })
}

/// A registered function.
#[derive(Clone)]
pub(crate) struct Registered {
    pub(crate) kind: FunctionKind,
    /// Callable only with the admin key.
    pub(crate) internal: bool,
    pub(crate) handler: Handler,
}

impl fmt::Debug for Registered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.internal { "internal " } else { "" })?;
        write!(f, "{}", self.kind)
    }
}
