//! The messages of the sync protocol (`/api/sync`), both ways, and its timestamps.
//!
//! Client messages are written with `json!`, those that carry args (`ModifyQuerySet`, `Mutation`, `Action`)
//! with serde's derive, which writes the args as the text they are kept as and builds no `Value` tree of a
//! query set of thousands. Server messages are read in two steps, the `type` first, so that an unknown type
//! is told apart from a malformed known one (the first is skipped, the second reconnects).

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
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
#[derive(Serialize)]
#[serde(tag = "type", rename_all_fields = "camelCase")]
pub(crate) enum Modification<'a> {
    Add {
        query_id: u32,
        #[serde(rename = "udfPath")]
        path: &'a str,
        #[serde(serialize_with = "one_element_array")]
        args: &'a RawValue,
        #[serde(skip_serializing_if = "Option::is_none")]
        journal: Option<&'a Value>,
    },
    Remove {
        query_id: u32,
    },
}

/// A `ModifyQuerySet`, serialized straight from the session's queries: a message of 10,000 adds built as a
/// `Value` first would copy every query's args and build a map per add (about 2.5 KB a query at its peak).
#[derive(Serialize)]
#[serde(tag = "type", rename = "ModifyQuerySet", rename_all = "camelCase")]
struct ModifyQuerySet<'a> {
    base_version: u32,
    new_version: u32,
    modifications: &'a [Modification<'a>],
}

/// The protocol sends a function's args as a one-element array.
fn one_element_array<S: serde::Serializer>(
    args: &&RawValue,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    [args].serialize(serializer)
}

pub(crate) fn modify_query_set(base: u32, new: u32, modifications: &[Modification<'_>]) -> String {
    let message = ModifyQuerySet {
        base_version: base,
        new_version: new,
        modifications,
    };
    // Serializing borrowed JSON values and integers cannot fail.
    serde_json::to_string(&message).unwrap_or_default()
}

/// `Mutation` or `Action`.
pub(crate) fn request(kind: &str, request_id: u32, path: &str, args: &RawValue) -> String {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Request<'a> {
        r#type: &'a str,
        request_id: u32,
        udf_path: &'a str,
        #[serde(serialize_with = "one_element_array")]
        args: &'a RawValue,
    }
    let request = Request {
        r#type: kind,
        request_id,
        udf_path: path,
        args,
    };
    // As for `modify_query_set`: nothing here can fail to serialize.
    serde_json::to_string(&request).unwrap_or_default()
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
    /// The first read: the type alone (serde skips the other fields without building them).
    #[derive(Deserialize)]
    struct Typed {
        r#type: String,
    }
    #[derive(Deserialize)]
    struct Fatal {
        #[serde(default)]
        error: Value,
    }
    // Each message is read straight into its type, not through a `Value` tree: a Transition of 10,000
    // results would otherwise build a map per result (about 600 bytes each) only to move it out again.
    let kind = match serde_json::from_str::<Typed>(text) {
        Ok(typed) => typed.r#type,
        Err(e) if e.is_syntax() || e.is_eof() => {
            return Err(format!("a frame that is not JSON ({e})"));
        }
        Err(_) => return Err("a message without a string `type`".to_owned()),
    };
    let read = |what: &str, e: serde_json::Error| format!("a malformed {what}: {e}");
    Ok(match kind.as_str() {
        "Transition" => ServerMessage::Transition(
            serde_json::from_str(text).map_err(|e| read("Transition", e))?,
        ),
        "MutationResponse" => ServerMessage::MutationResponse(
            serde_json::from_str(text).map_err(|e| read("MutationResponse", e))?,
        ),
        "ActionResponse" => ServerMessage::ActionResponse(
            serde_json::from_str(text).map_err(|e| read("ActionResponse", e))?,
        ),
        "AuthError" => {
            ServerMessage::AuthError(serde_json::from_str(text).map_err(|e| read("AuthError", e))?)
        }
        "FatalError" => {
            let fatal: Fatal = serde_json::from_str(text).map_err(|e| read("FatalError", e))?;
            ServerMessage::FatalError {
                error: fatal.error.as_str().unwrap_or_default().to_owned(),
            }
        }
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
    fn query_sets_and_requests_are_written_as_the_official_clients_write_them() {
        let args = json!({ "status": "published", "max": 2 });
        let raw = RawValue::from_string(args.to_string()).expect("JSON");
        let journal = json!("a journal");
        let message = modify_query_set(
            3,
            4,
            &[
                Modification::Add {
                    query_id: 7,
                    path: "posts:list",
                    args: &raw,
                    journal: None,
                },
                Modification::Add {
                    query_id: 8,
                    path: "posts:get",
                    args: &raw,
                    journal: Some(&journal),
                },
                Modification::Remove { query_id: 5 },
            ],
        );
        let written: Value = serde_json::from_str(&message).expect("JSON");
        assert_eq!(
            written,
            json!({
                "type": "ModifyQuerySet",
                "baseVersion": 3,
                "newVersion": 4,
                "modifications": [
                    { "type": "Add", "queryId": 7, "udfPath": "posts:list", "args": [args] },
                    { "type": "Add", "queryId": 8, "udfPath": "posts:get", "args": [args], "journal": "a journal" },
                    { "type": "Remove", "queryId": 5 },
                ],
            })
        );
        let written: Value =
            serde_json::from_str(&request("Mutation", 3, "posts:create", &raw)).expect("JSON");
        assert_eq!(
            written,
            json!({ "type": "Mutation", "requestId": 3, "udfPath": "posts:create", "args": [args] })
        );
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
