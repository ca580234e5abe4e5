//! Credentials that must never reach a log, an error message or `Debug` output.

use std::fmt;

/// A credential: a user's JWT or the deployment's admin key.
///
/// Its `Debug` and `Display` print `[redacted]`. Applications can keep their own secrets (a webhook signing
/// key, a cron secret) in it too, and read them with [`Secret::expose`] where they are used.
#[derive(Clone, Eq)]
pub struct Secret(Box<str>);

/// Compared in constant time, like [`Secret::matches`].
impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        self.matches(other.0.as_bytes())
    }
}

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into().into_boxed_str())
    }

    /// The secret's text, for the one place that needs it (a signature check, a header). Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `given` (a header's bytes, say) is this secret, in time that depends on their lengths only, so
    /// that a caller guessing a shared secret learns nothing from how fast a wrong guess is refused.
    ///
    /// ```
    /// let secret = convex_fetch::Secret::new("s3cret");
    /// assert!(secret.matches(b"s3cret"));
    /// assert!(!secret.matches(b"s3creT"));
    /// ```
    pub fn matches(&self, given: &[u8]) -> bool {
        let expected = self.0.as_bytes();
        if expected.len() != given.len() {
            return false;
        }
        // Every byte is looked at whatever the earlier ones were; `black_box` keeps the optimiser from
        // turning the fold back into an early exit.
        let difference = expected
            .iter()
            .zip(given)
            .fold(0u8, |acc, (a, b)| acc | std::hint::black_box(a ^ b));
        std::hint::black_box(difference) == 0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// What `.auth(…)` and `.admin_key(…)` take: a credential's text (`&str`, `String`, …) or a [`Secret`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a credential",
    label = "expected the token or key itself (`&str`, `String` or `Secret`)",
    note = "for an `Option`, set the credential only when there is one: `if let Some(token) = &token {{ call = call.auth(token) }}`"
)]
pub trait IntoCredential {
    /// The credential's text.
    fn into_credential(self) -> String;
}

impl IntoCredential for String {
    fn into_credential(self) -> String {
        self
    }
}

impl IntoCredential for &str {
    fn into_credential(self) -> String {
        self.to_owned()
    }
}

impl IntoCredential for &String {
    fn into_credential(self) -> String {
        self.clone()
    }
}

impl IntoCredential for Box<str> {
    fn into_credential(self) -> String {
        self.into()
    }
}

impl IntoCredential for std::borrow::Cow<'_, str> {
    fn into_credential(self) -> String {
        self.into_owned()
    }
}

impl IntoCredential for Secret {
    fn into_credential(self) -> String {
        self.0.into()
    }
}

impl IntoCredential for &Secret {
    fn into_credential(self) -> String {
        self.expose().to_owned()
    }
}
/// The URL with any password replaced, for `Debug` and messages. A URL that does not parse loses all of its
/// credentials, as where the password ends cannot be told.
pub(crate) fn redact_password(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("[redacted]"));
            parsed.as_str().trim_end_matches('/').to_owned()
        }
        Ok(_) => url.to_owned(),
        Err(_) => match (url.find("://"), url.rfind('@')) {
            (Some(start), Some(end)) if start + 3 <= end => {
                format!("{}[redacted]{}", &url[..start + 3], &url[end..])
            }
            _ => url.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_matches_only_itself() {
        let secret = Secret::new("s3cret");
        assert!(secret.matches(b"s3cret"));
        // A difference anywhere, a prefix, an extension: refused, the last byte looked at as the first.
        for wrong in [
            &b"X3cret"[..],
            b"s3creX",
            b"s3cre",
            b"s3crets",
            b"",
            b"S3CRET",
        ] {
            assert!(
                !secret.matches(wrong),
                "{:?}",
                String::from_utf8_lossy(wrong)
            );
        }
        // `SharedSecret::verify` refuses an empty configured secret before comparing (an unset env var).
        assert!(Secret::new("").matches(b""));
        assert_eq!(Secret::new("a"), Secret::new("a"));
        assert_ne!(Secret::new("a"), Secret::new("b"));
    }
}
