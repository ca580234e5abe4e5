//! Handlers: Rust functions standing in for Convex functions, and the errors they throw.

use super::ctx::Ctx;
use super::format::js_stringify;
use convex_fetch::FunctionKind;
use convex_fetch::value::{self, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// What a handler throws: a plain `Error` or a `ConvexError` carrying data.
///
/// ```
/// use convex_fetch_testing::FunctionError;
/// use serde_json::json;
///
/// // `throw new Error("boom")`: the answer's `errorMessage` is
/// // "[Request ID: …] Server Error\nUncaught Error: boom\n    at …\n", with no `errorData`.
/// let plain = FunctionError::message("boom");
/// // `throw new ConvexError({ code: "NOT_FOUND" })`: `errorData` is the data, and `errorMessage` is
/// // `{"code":"NOT_FOUND"}`, as `JSON.stringify` prints it.
/// let convex = FunctionError::convex(json!({ "code": "NOT_FOUND" }));
/// assert_eq!(convex.error_message(), r#"{"code":"NOT_FOUND"}"#);
/// // A string converts into a plain error, for `?` and `.into()`.
/// let converted: FunctionError = "boom".into();
/// # let _ = (plain, converted);
/// ```
#[derive(Clone, PartialEq)]
pub struct FunctionError {
    message: String,
    /// The `ConvexError` data, with its Convex types.
    data: Option<Value>,
}

impl FunctionError {
    /// A plain `Error(message)`: the answer carries `errorMessage` only, in the backend's shape
    /// (`[Request ID: …] Server Error\nUncaught Error: <message>\n    at …\n`).
    pub fn message(message: impl Into<String>) -> Self {
        FunctionError {
            message: message.into(),
            data: None,
        }
    }

    /// A `ConvexError(data)`: the answer carries `errorData` (the data, in the request's format) and an
    /// `errorMessage` that is the data itself when it is a string, else its `JSON.stringify` text (int64
    /// values print as `"42n"`), as the Convex runtime builds it.
    ///
    /// Data that cannot be encoded for Convex (a map with non-string keys, a field name starting with `$`)
    /// becomes a plain error saying so.
    pub fn convex(data: impl Serialize) -> Self {
        let encoded = value::to_value(&data).and_then(|json| {
            let data = Value::from_json(json.clone())?;
            Ok((json, data))
        });
        match encoded {
            Ok((_, Value::String(text))) => FunctionError {
                message: text.clone(),
                data: Some(Value::String(text)),
            },
            Ok((json, data)) => FunctionError {
                message: js_stringify(&json),
                data: Some(data),
            },
            Err(e) => FunctionError::message(format!(
                "the ConvexError data could not be encoded for Convex: {e}"
            )),
        }
    }

    /// The error's own message, which the answer's `errorMessage` carries after `Uncaught <name>: `.
    pub fn error_message(&self) -> &str {
        &self.message
    }

    /// The error's class name: `ConvexError` for [`FunctionError::convex`], else `Error`.
    pub fn name(&self) -> &'static str {
        if self.data.is_some() {
            "ConvexError"
        } else {
            "Error"
        }
    }

    /// The `ConvexError` data, with its Convex types (an int64 is a `Value::Int64`); `None` for a plain error.
    pub fn data(&self) -> Option<&Value> {
        self.data.as_ref()
    }
}

impl fmt::Debug for FunctionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FunctionError")
            .field("message", &self.message)
            .field("data", &self.data)
            .finish()
    }
}

impl fmt::Display for FunctionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FunctionError {}

impl From<&str> for FunctionError {
    fn from(message: &str) -> Self {
        FunctionError::message(message)
    }
}

impl From<String> for FunctionError {
    fn from(message: String) -> Self {
        FunctionError::message(message)
    }
}

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
