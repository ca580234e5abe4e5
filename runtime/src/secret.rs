//! Credentials that must never reach a log, an error message or `Debug` output.

use crate::Error;
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

    /// Builds the `Authorization` header value `"{scheme} {secret}"`, refusing what cannot be a header:
    /// an empty credential, or one holding a control character such as a newline (header injection).
    pub(crate) fn header(
        &self,
        scheme: &str,
        what: &'static str,
    ) -> Result<reqwest::header::HeaderValue, Error> {
        if self.0.is_empty() {
            return Err(Error::config(format!("the {what} is empty")));
        }
        if self.0.chars().any(|c| c.is_control()) {
            return Err(Error::config(format!(
                "the {what} contains a control character (such as a newline); it cannot be sent in a header"
            )));
        }
        let mut value = reqwest::header::HeaderValue::try_from(format!("{scheme} {}", self.0))
            .map_err(|_| Error::config(format!("the {what} is not a valid header value")))?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
