//! Per-call settings, and the one set of setters that `FetchOptions`, `Call` and `ClientBuilder` share.

use crate::error::Error;
use crate::secret::Secret;
use reqwest::header::HeaderValue;
use std::fmt;
use std::time::Duration;

/// Per-call settings: the `authToken` and `verbose` of the fetch helpers of server routes, plus an admin key
/// and a timeout.
///
/// A setting left unset falls back to the client's. Credentials are redacted in `Debug`.
///
/// ```
/// use convex_fetch::FetchOptions;
/// use std::time::Duration;
///
/// let options = FetchOptions::new().auth("eyJhbGciOi…").timeout(Duration::from_secs(5)).verbose();
/// assert!(!format!("{options:?}").contains("eyJ"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct FetchOptions {
    credential: Option<Credential>,
    timeout: Option<Duration>,
    verbose: bool,
}

#[derive(Clone, PartialEq, Eq)]
enum Credential {
    Auth(Secret),
    AdminKey(Secret),
}

impl FetchOptions {
    /// No options: unauthenticated, the client's timeout, quiet.
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn set_auth(&mut self, token: String) {
        self.credential = Some(Credential::Auth(Secret::new(token)));
    }

    pub(crate) fn set_admin_key(&mut self, key: String) {
        self.credential = Some(Credential::AdminKey(Secret::new(key)));
    }

    pub(crate) fn set_admin_key_acting_as(&mut self, key: String, identity: &serde_json::Value) {
        use base64::Engine as _;
        let identity = base64::engine::general_purpose::STANDARD.encode(identity.to_string());
        // The key is checked (and a pasted `Convex ` scheme removed) when the header is built.
        self.set_admin_key(format!("{key}:{identity}"));
    }

    pub(crate) fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = Some(timeout);
    }

    pub(crate) fn set_verbose(&mut self) {
        self.verbose = true;
    }

    /// These options, with what they leave unset taken from `fallback`.
    pub(crate) fn or(self, fallback: &FetchOptions) -> FetchOptions {
        FetchOptions {
            credential: self.credential.or_else(|| fallback.credential.clone()),
            timeout: self.timeout.or(fallback.timeout),
            verbose: self.verbose || fallback.verbose,
        }
    }

    /// These options with `token`, a scope's (see `caller`), as their credential.
    pub(crate) fn with_scoped_auth(mut self, token: Secret) -> FetchOptions {
        self.credential = Some(Credential::Auth(token));
        self
    }

    /// Whether a credential (token or admin key) is set.
    pub(crate) fn has_credential(&self) -> bool {
        self.credential.is_some()
    }

    pub(crate) fn has_auth(&self) -> bool {
        matches!(self.credential, Some(Credential::Auth(_)))
    }

    /// The `Authorization` header, if any: `Bearer <token>` or `Convex <admin key>`.
    pub(crate) fn authorization(&self) -> Result<Option<HeaderValue>, Error> {
        match &self.credential {
            None => Ok(None),
            Some(Credential::Auth(token)) => authorization(token, AUTH).map(Some),
            Some(Credential::AdminKey(key)) => authorization(key, ADMIN_KEY).map(Some),
        }
    }

    /// The credential as the sync protocol's `Authenticate` carries it: the token or key without its scheme
    /// (checked as the header would be), and whether it is an admin key.
    pub(crate) fn bare_credential(&self) -> Result<Option<(bool, String)>, Error> {
        let admin = matches!(self.credential, Some(Credential::AdminKey(_)));
        Ok(self.authorization()?.and_then(|header| {
            let text = header.to_str().ok()?;
            let (_, bare) = text.split_once(' ')?;
            Some((admin, bare.to_owned()))
        }))
    }

    pub(crate) fn is_verbose(&self) -> bool {
        self.verbose
    }

    pub(crate) fn timeout_setting(&self) -> Option<Duration> {
        self.timeout
    }
}

/// A kind of credential: its header scheme, and the scheme of the other kind, which it must not carry.
struct Scheme {
    what: &'static str,
    scheme: &'static str,
    other: &'static str,
    other_setter: &'static str,
}

const AUTH: Scheme = Scheme {
    what: "auth token",
    scheme: "Bearer",
    other: "Convex",
    other_setter: "admin_key",
};

const ADMIN_KEY: Scheme = Scheme {
    what: "admin key",
    scheme: "Convex",
    other: "Bearer",
    other_setter: "auth",
};

/// Builds `"{scheme} {secret}"`. A secret pasted with its own scheme, as an `Authorization` header holds it
/// (`Bearer eyJ…`), is sent once with it, not as `Bearer Bearer eyJ…`; a secret with the other kind's scheme is
/// refused, as it is surely given to the wrong setter. So is what cannot be a header: an empty credential, or
/// one holding a control character such as a newline (header injection).
fn authorization(secret: &Secret, kind: Scheme) -> Result<HeaderValue, Error> {
    let what = kind.what;
    let text = secret.expose();
    if strip_scheme(text, kind.other).is_some() {
        return Err(Error::config(format!(
            "the {what} starts with `{} `, the scheme of the other credential: pass it to `.{}(…)`",
            kind.other, kind.other_setter
        )));
    }
    let text = strip_scheme(text, kind.scheme).unwrap_or(text);
    if text.trim().is_empty() {
        return Err(Error::config(format!("the {what} is empty")));
    }
    if text.chars().any(char::is_control) {
        return Err(Error::config(format!(
            "the {what} contains a control character (such as a newline); it cannot be sent in a header"
        )));
    }
    let mut value = HeaderValue::try_from(format!("{} {text}", kind.scheme))
        .map_err(|_| Error::config(format!("the {what} is not a valid header value")))?;
    value.set_sensitive(true);
    Ok(value)
}

/// `text` without a leading `scheme` and the spaces after it, matched case-insensitively as the backend does.
fn strip_scheme<'a>(text: &'a str, scheme: &str) -> Option<&'a str> {
    let head = text.get(..scheme.len())?;
    let rest = &text[scheme.len()..];
    (head.eq_ignore_ascii_case(scheme) && rest.starts_with(' '))
        .then(|| rest.trim_start_matches(' '))
}

impl fmt::Debug for FetchOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let credential = match self.credential {
            None => "none",
            Some(Credential::Auth(_)) => "auth token [redacted]",
            Some(Credential::AdminKey(_)) => "admin key [redacted]",
        };
        f.debug_struct("FetchOptions")
            .field("credential", &format_args!("{credential}"))
            .field("timeout", &self.timeout)
            .field("verbose", &self.verbose)
            .finish()
    }
}

/// The option setters, written once for every type that holds `FetchOptions` (in the field named here):
/// `FetchOptions` itself, `Call` and `ClientBuilder`.
macro_rules! option_setters {
    ($($field:ident)?) => {
        /// Runs the call as the user this JWT identifies (`Authorization: Bearer …`). A token given with its
        /// `Bearer ` scheme is sent as it is, without a second one. Replaces an admin key set earlier.
        pub fn auth(mut self, token: impl $crate::secret::IntoCredential) -> Self {
            self$(.$field)?.set_auth(token.into_credential());
            self
        }

        /// Runs the call with the deployment's admin key (`Authorization: Convex …`), which internal functions
        /// need. A key given with its `Convex ` scheme is sent as it is. Replaces an auth token set earlier.
        pub fn admin_key(mut self, key: impl $crate::secret::IntoCredential) -> Self {
            self$(.$field)?.set_admin_key(key.into_credential());
            self
        }

        /// Runs the call with the deployment's admin key, acting as the user `identity` describes
        /// (`Authorization: Convex <key>:<base64 of the identity JSON>`, as the official clients send it).
        /// `identity` holds the user's `subject` and `issuer`, and optionally `name`, `email` and other claims.
        ///
        /// ```
        /// let options = convex_fetch::FetchOptions::new().admin_key_acting_as(
        ///     "prod:abc123",
        ///     &serde_json::json!({ "subject": "user_1", "issuer": "https://auth.example.com" }),
        /// );
        /// # let _ = options;
        /// ```
        pub fn admin_key_acting_as(
            mut self,
            key: impl $crate::secret::IntoCredential,
            identity: &serde_json::Value,
        ) -> Self {
            self$(.$field)?.set_admin_key_acting_as(key.into_credential(), identity);
            self
        }

        /// The time the call may take, retries included. Default [`DEFAULT_TIMEOUT`](crate::DEFAULT_TIMEOUT).
        pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
            self$(.$field)?.set_timeout(timeout);
            self
        }

        /// Prints the call and its result to stderr, as the fetch helpers' `verbose` option does:
        /// `[fetchQuery] posts:list: Starting { args: {}, hasAuth: false }`.
        pub fn verbose(mut self) -> Self {
            self$(.$field)?.set_verbose();
            self
        }
    };
}
pub(crate) use option_setters;

impl FetchOptions {
    option_setters!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(options: FetchOptions) -> Result<String, Error> {
        let value = options.authorization()?.expect("a credential");
        Ok(value.to_str().unwrap().to_owned())
    }

    #[test]
    fn a_pasted_scheme_is_sent_once_and_the_wrong_one_refused() {
        for token in ["eyJ.x", "Bearer eyJ.x", "bearer  eyJ.x", "BEARER eyJ.x"] {
            assert_eq!(
                header(FetchOptions::new().auth(token)).unwrap(),
                "Bearer eyJ.x"
            );
        }
        for key in ["prod:k", "Convex prod:k", "convex prod:k"] {
            assert_eq!(
                header(FetchOptions::new().admin_key(key)).unwrap(),
                "Convex prod:k"
            );
        }
        let err = header(FetchOptions::new().auth("Convex prod:k")).unwrap_err();
        assert!(err.to_string().contains("`.admin_key(…)`"), "{err}");
        let err = header(FetchOptions::new().admin_key("Bearer eyJ")).unwrap_err();
        assert!(err.to_string().contains("`.auth(…)`"), "{err}");
        // A token that merely starts with the letters of a scheme is not one.
        assert_eq!(
            header(FetchOptions::new().auth("Bearerish")).unwrap(),
            "Bearer Bearerish"
        );
        for bad in ["", "Bearer ", "a\nb"] {
            assert!(header(FetchOptions::new().auth(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn unset_options_fall_back() {
        let fallback = FetchOptions::new()
            .admin_key("k")
            .timeout(Duration::from_secs(1));
        let merged = FetchOptions::new().verbose().or(&fallback);
        assert!(merged.is_verbose() && !merged.has_auth());
        assert_eq!(merged.timeout_setting(), Some(Duration::from_secs(1)));
        let merged = FetchOptions::new().auth("t").or(&fallback);
        assert!(merged.has_auth());
    }
}
