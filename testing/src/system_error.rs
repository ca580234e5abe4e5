//! A refusal before any function runs: a non-2xx status with the backend's `{"code","message"}` body.

/// A refusal before the function: a non-2xx status with `{"code","message"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SystemError {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl SystemError {
    pub(crate) fn new(status: u16, code: &'static str, message: impl Into<String>) -> SystemError {
        SystemError {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn bad_body(message: impl Into<String>) -> SystemError {
        SystemError::new(400, "BadJsonBody", message)
    }
}
