//! The `Authorization` header, read as a deployment reads it.

use super::system_error::SystemError;
use base64::Engine as _;
use std::collections::HashMap;
use std::fmt;

/// How a recorded request authenticated. Credentials are redacted in `Debug`.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum Auth {
    /// No `Authorization` header.
    None,
    /// `Authorization: Bearer <token>`. `identity` is the identity registered for the token, `None` when the
    /// token is unknown (the request was refused with 401).
    Bearer {
        /// The token as sent.
        token: String,
        /// The identity the token maps to.
        identity: Option<serde_json::Value>,
    },
    /// `Authorization: Convex <admin key>`.
    Admin,
    /// `Authorization: Convex <admin key>:<base64 identity JSON>`: the admin key, acting as this user.
    ActingAs(serde_json::Value),
    /// A header the deployment refused with 401: a wrong admin key, an unknown scheme, an unreadable identity.
    Invalid,
}

impl Auth {
    /// The identity the request ran as: the bearer token's or the acting-as one.
    pub fn identity(&self) -> Option<&serde_json::Value> {
        match self {
            Auth::Bearer { identity, .. } => identity.as_ref(),
            Auth::ActingAs(identity) => Some(identity),
            _ => None,
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Bearer { identity, .. } => f
                .debug_struct("Bearer")
                .field("token", &"[redacted]")
                .field("identity", identity)
                .finish(),
            Auth::Admin => f.write_str("Admin"),
            Auth::ActingAs(identity) => f.debug_tuple("ActingAs").field(identity).finish(),
            Auth::Invalid => f.write_str("Invalid"),
        }
    }
}

/// Who a request runs as, once its header is accepted.
#[derive(Debug, Clone, Default)]
pub(crate) struct Caller {
    pub(crate) identity: Option<serde_json::Value>,
    pub(crate) admin: bool,
    /// The credential a sync session authenticated with, passed on when its functions run on another
    /// deployment (the JS deployment's Node server); `None` over HTTP, whose requests go there as they came.
    pub(crate) credential: Option<Auth>,
}

impl Auth {
    /// The `Authorization` header that stands for this credential, given the deployment's admin key.
    pub(crate) fn header(&self, admin_key: &str) -> Option<String> {
        match self {
            Auth::Bearer { token, .. } => Some(format!("Bearer {token}")),
            Auth::Admin => Some(format!("Convex {admin_key}")),
            Auth::ActingAs(identity) => Some(format!(
                "Convex {admin_key}:{}",
                base64::engine::general_purpose::STANDARD.encode(identity.to_string())
            )),
            Auth::None | Auth::Invalid => None,
        }
    }
}

/// Reads an `Authorization` header: what to record, and who the caller is or why the header is refused.
pub(crate) fn authenticate(
    header: Option<&[u8]>,
    admin_key: &str,
    tokens: &HashMap<String, serde_json::Value>,
) -> (Auth, Result<Caller, SystemError>) {
    let Some(header) = header else {
        return (Auth::None, Ok(Caller::default()));
    };
    let Ok(header) = std::str::from_utf8(header) else {
        return (Auth::Invalid, Err(invalid("the header is not valid UTF-8")));
    };
    if let Some(token) = strip_prefix_ignore_case(header, "bearer ") {
        let token = token.trim();
        return match tokens.get(token) {
            Some(identity) => (
                Auth::Bearer {
                    token: token.to_owned(),
                    identity: Some(identity.clone()),
                },
                Ok(Caller {
                    identity: Some(identity.clone()),
                    admin: false,
                    credential: None,
                }),
            ),
            None => (
                Auth::Bearer {
                    token: token.to_owned(),
                    identity: None,
                },
                Err(invalid(
                    "Could not verify the token: it is not one registered with `TestDeploymentBuilder::token`",
                )),
            ),
        };
    }
    if let Some(key) = strip_prefix_ignore_case(header, "convex ") {
        let key = key.trim();
        if key == admin_key {
            return (
                Auth::Admin,
                Ok(Caller {
                    identity: None,
                    admin: true,
                    credential: None,
                }),
            );
        }
        // Admin keys may hold `:` themselves (`prod:happy-otter-123|…`): the identity follows the last one.
        if let Some((key, encoded)) = key.rsplit_once(':')
            && key == admin_key
        {
            return match acting_as(encoded) {
                Ok(identity) => (
                    Auth::ActingAs(identity.clone()),
                    Ok(Caller {
                        identity: Some(identity),
                        admin: true,
                        credential: None,
                    }),
                ),
                Err(message) => (Auth::Invalid, Err(invalid(&message))),
            };
        }
        return (
            Auth::Invalid,
            Err(SystemError::new(
                401,
                "BadAdminKey",
                "The provided admin key was invalid for this instance",
            )),
        );
    }
    (
        Auth::Invalid,
        Err(invalid("Header must begin with `bearer `")),
    )
}

fn invalid(message: &str) -> SystemError {
    SystemError::new(401, "InvalidAuthHeader", message)
}

/// The identity of `Convex <key>:<identity>`: standard base64 (padding optional) of a JSON object.
fn acting_as(encoded: &str) -> Result<serde_json::Value, String> {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let bytes = engine
        .decode(encoded)
        .map_err(|e| format!("The acting-as identity is not base64: {e}"))?;
    match serde_json::from_slice(&bytes) {
        Ok(identity @ serde_json::Value::Object(_)) => Ok(identity),
        Ok(_) => Err("The acting-as identity is not a JSON object".to_owned()),
        Err(e) => Err(format!("The acting-as identity is not JSON: {e}")),
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        text.get(prefix.len()..)
    } else {
        None
    }
}
