//! The messages of the sync protocol (`/api/sync`), both ways, and its timestamps.
//!
//! Client messages are written with `json!`; server messages are read in two steps, the `type` first, so that
//! an unknown type is told apart from a malformed known one (the first is skipped, the second reconnects).

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};

/// A timestamp of the protocol: nanoseconds since the epoch, on the wire as standard base64 (with padding) of
/// its 8 little-endian bytes.
pub(crate) fn encode_ts(ts: u64) -> String {
    base64::engine::general_purpose::STANDARD.encode(ts.to_le_bytes())
}

/// Reads a protocol timestamp; anything but 8 bytes of base64 is refused.
pub(crate) fn decode_ts(text: &str) -> Result<u64, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("timestamp {text:?} is not base64: {e}"))?;
    let bytes: [u8; 8] = bytes
        .try_into()
        .map_err(|_| format!("timestamp {text:?} is not 8 bytes"))?;
    Ok(u64::from_le_bytes(bytes))
}

/// What client and server agree the client holds: the query set and identity versions, and the timestamp of
/// the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct StateVersion {
    pub(crate) query_set: u32,
    pub(crate) identity: u32,
    pub(crate) ts: u64,
}

impl<'de> Deserialize<'de> for StateVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire {
            query_set: u32,
            identity: u32,
            ts: String,
        }
        let wire = Wire::deserialize(d)?;
        Ok(StateVersion {
            query_set: wire.query_set,
            identity: wire.identity,
            ts: decode_ts(&wire.ts).map_err(serde::de::Error::custom)?,
        })
    }
}

/// A credential as `Authenticate` carries it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) enum Credential {
    /// A user's JWT: `tokenType: "User"`.
    User(String),
    /// The deployment's admin key, possibly acting as a user (`impersonating`).
    Admin {
        key: String,
        acting_as: Option<Value>,
    },
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::User(_) => f.write_str("User([redacted])"),
            Credential::Admin { acting_as, .. } => f
                .debug_struct("Admin")
                .field("key", &"[redacted]")
                .field("acting_as", acting_as)
                .finish(),
        }
    }
}

pub(crate) fn connect(
    session_id: &str,
    connection_count: u32,
    last_close_reason: &str,
    max_observed: Option<u64>,
    client_ts_ms: u64,
) -> String {
    let mut message = json!({
        "type": "Connect",
        "sessionId": session_id,
        "connectionCount": connection_count,
        "lastCloseReason": last_close_reason,
        "clientTs": client_ts_ms,
    });
    if let Some(ts) = max_observed {
        message["maxObservedTimestamp"] = json!(encode_ts(ts));
    }
    message.to_string()
}

pub(crate) fn authenticate(base_version: u32, credential: &Credential) -> String {
    match credential {
        Credential::User(token) => json!({
            "type": "Authenticate",
            "baseVersion": base_version,
            "tokenType": "User",
            "value": token,
        }),
        Credential::Admin { key, acting_as } => {
            let mut message = json!({
                "type": "Authenticate",
                "baseVersion": base_version,
                "tokenType": "Admin",
                "value": key,
            });
            if let Some(identity) = acting_as {
                message["impersonating"] = identity.clone();
            }
            message
        }
    }
    .to_string()
}

/// One change of a `ModifyQuerySet`.
pub(crate) enum Modification<'a> {
    Add {
        query_id: u32,
        path: &'a str,
        args: &'a Value,
        journal: Option<&'a Value>,
    },
    Remove {
        query_id: u32,
    },
}

pub(crate) fn modify_query_set(base: u32, new: u32, modifications: &[Modification<'_>]) -> String {
    let modifications: Vec<Value> = modifications
        .iter()
        .map(|m| match m {
            Modification::Add {
                query_id,
                path,
                args,
                journal,
            } => {
                let mut add = json!({
                    "type": "Add",
                    "queryId": query_id,
                    "udfPath": path,
                    "args": [args],
                });
                if let Some(journal) = journal {
                    add["journal"] = (*journal).clone();
                }
                add
            }
            Modification::Remove { query_id } => json!({ "type": "Remove", "queryId": query_id }),
        })
        .collect();
    json!({
        "type": "ModifyQuerySet",
        "baseVersion": base,
        "newVersion": new,
        "modifications": modifications,
    })
    .to_string()
}

/// `Mutation` or `Action`.
pub(crate) fn request(kind: &str, request_id: u32, path: &str, args: &Value) -> String {
    json!({ "type": kind, "requestId": request_id, "udfPath": path, "args": [args] }).to_string()
}

/// A message of the server, read.
#[derive(Debug)]
pub(crate) enum ServerMessage {
    Transition(Transition),
    MutationResponse(Response),
    ActionResponse(Response),
    AuthError(AuthError),
    FatalError {
        error: String,
    },
    Ping,
    /// A type this client does not know: skipped, as a newer server may send it.
    Unknown(String),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Transition {
    pub(crate) start_version: StateVersion,
    pub(crate) end_version: StateVersion,
    pub(crate) modifications: Vec<QueryModification>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
#[allow(clippy::enum_variant_names, reason = "the protocol's names")]
pub(crate) enum QueryModification {
    #[serde(rename_all = "camelCase")]
    QueryUpdated {
        query_id: u32,
        value: Value,
        #[serde(default)]
        log_lines: Vec<String>,
        #[serde(default)]
        journal: Option<Value>,
    },
    #[serde(rename_all = "camelCase")]
    QueryFailed {
        query_id: u32,
        error_message: String,
        #[serde(default)]
        log_lines: Vec<String>,
        #[serde(default)]
        journal: Option<Value>,
        /// Present, even as `null`, only for a `ConvexError`.
        #[serde(default, deserialize_with = "present")]
        error_data: Option<Value>,
    },
    QueryRemoved {},
}

/// A `MutationResponse` or an `ActionResponse`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Response {
    pub(crate) request_id: u32,
    pub(crate) success: bool,
    /// The value on success, the error message on failure.
    #[serde(default)]
    pub(crate) result: Value,
    /// The commit timestamp of a successful mutation.
    #[serde(default)]
    pub(crate) ts: Option<String>,
    #[serde(default)]
    pub(crate) log_lines: Vec<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) error_data: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuthError {
    pub(crate) error: String,
    #[serde(default)]
    pub(crate) auth_update_attempted: bool,
}

/// `Some` for any value, `null` included.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// Reads one text frame. `Err` says what is malformed, without quoting values (they may be large).
pub(crate) fn parse(text: &str) -> Result<ServerMessage, String> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("a frame that is not JSON ({e})"))?;
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| "a message without a string `type`".to_owned())?
        .to_owned();
    let read = |what: &str, e: serde_json::Error| format!("a malformed {what}: {e}");
    Ok(match kind.as_str() {
        "Transition" => ServerMessage::Transition(
            serde_json::from_value(value).map_err(|e| read("Transition", e))?,
        ),
        "MutationResponse" => ServerMessage::MutationResponse(
            serde_json::from_value(value).map_err(|e| read("MutationResponse", e))?,
        ),
        "ActionResponse" => ServerMessage::ActionResponse(
            serde_json::from_value(value).map_err(|e| read("ActionResponse", e))?,
        ),
        "AuthError" => ServerMessage::AuthError(
            serde_json::from_value(value).map_err(|e| read("AuthError", e))?,
        ),
        "FatalError" => ServerMessage::FatalError {
            error: value
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        },
        "Ping" => ServerMessage::Ping,
        _ => ServerMessage::Unknown(kind),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_base64_of_little_endian_u64() {
        assert_eq!(encode_ts(0), "AAAAAAAAAAA=");
        assert_eq!(encode_ts(1), "AQAAAAAAAAA=");
        assert_eq!(encode_ts(1_764_460_800_000_000_000), "AAAaxL+ffBg=");
        assert_eq!(
            decode_ts("AAAaxL+ffBg=").unwrap(),
            1_764_460_800_000_000_000
        );
        assert!(decode_ts("AQ==").is_err());
        assert!(decode_ts("not base64!").is_err());
    }

    #[test]
    fn reads_the_captured_messages() {
        let transition = r#"{"type":"Transition","startVersion":{"querySet":0,"identity":0,"ts":"AAAAAAAAAAA="},"endVersion":{"querySet":1,"identity":0,"ts":"AE7TtHWp7Bg="},"modifications":[{"type":"QueryUpdated","queryId":0,"value":[],"logLines":[],"journal":null},{"type":"QueryFailed","queryId":2,"errorMessage":"x","logLines":[],"journal":null,"errorData":null},{"type":"QueryRemoved","queryId":3}],"clientClockSkew":414,"serverTs":1795996675115000000}"#;
        let ServerMessage::Transition(t) = parse(transition).unwrap() else {
            panic!()
        };
        assert_eq!(t.end_version.query_set, 1);
        assert_eq!(t.modifications.len(), 3);
        let QueryModification::QueryFailed { error_data, .. } = &t.modifications[1] else {
            panic!()
        };
        assert_eq!(error_data, &Some(Value::Null));
        let response = r#"{"type":"MutationResponse","requestId":2,"success":false,"result":"boom","ts":null,"logLines":[]}"#;
        let ServerMessage::MutationResponse(r) = parse(response).unwrap() else {
            panic!()
        };
        assert!(!r.success && r.ts.is_none() && r.error_data.is_none());
        assert!(matches!(
            parse(r#"{"type":"Whatever"}"#),
            Ok(ServerMessage::Unknown(_))
        ));
        assert!(parse(r#"{"type":"Transition"}"#).is_err());
        assert!(parse("[1,").is_err());
        assert!(parse(r#"{"type":3}"#).is_err());
    }
}
