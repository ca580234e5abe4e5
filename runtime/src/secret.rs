//! Credentials that must never reach a log, an error message or `Debug` output.

use std::fmt;

/// A credential: a user's JWT or the deployment's admin key.
///
/// Its `Debug` and `Display` print `[redacted]`. Applications can keep their own secrets (a webhook signing
/// key, a cron secret) in it too, and read them with [`Secret::expose`] where they are used.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Box<str>);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into().into_boxed_str())
    }

    /// The secret's text, for the one place that needs it (a signature check, a header). Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
