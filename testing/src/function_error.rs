//! What a handler throws: a plain `Error` or a `ConvexError` carrying data, as the Convex runtime shapes it.

use super::format::js_stringify;
use convex_fetch::value::{self, Value};
use serde::Serialize;
use std::fmt;

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
