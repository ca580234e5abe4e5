//! A Stripe webhook that activates and cancels subscriptions with mutations.
//!
//! `POST /api/webhooks/stripe` checks the `Stripe-Signature` header first: `t=<unix time>,v1=<hex>`, where
//! `v1` is the HMAC-SHA256 of `"{t}.{raw body}"` keyed with the endpoint's signing secret (`whsec_…`), and `t`
//! is within [`TOLERANCE_SECS`] of now. A missing or wrong signature is answered 400 and nothing is written.
//! Then:
//!
//! - `checkout.session.completed` → the mutation `subscriptions:activate` with the session's
//!   `metadata.userId` and `subscription`;
//! - `customer.subscription.deleted` → the mutation `subscriptions:cancel`;
//! - any other event type → ignored, answered 200 so that Stripe does not resend it.
//!
//! A failed mutation is answered with an error status, so Stripe delivers the event again later: the
//! mutations must be idempotent (keyed by the Stripe subscription id), as Stripe may deliver twice anyway.

use crate::api;
use crate::error_handling::reject;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;
use std::collections::HashMap;
use std::fmt;

/// How far the signature's timestamp may be from now, in seconds, as in Stripe's libraries.
pub const TOLERANCE_SECS: u64 = 300;

/// What the route needs.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The Convex deployment.
    pub convex: convex::Client,
    /// The endpoint's signing secret, `whsec_…` (`STRIPE_WEBHOOK_SECRET`).
    pub webhook_secret: convex::Secret,
}

/// The route: `POST /api/webhooks/stripe`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/webhooks/stripe", post(receive))
        .with_state(state)
}

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// The header has no timestamp or no `v1` signature.
    Malformed,
    /// The timestamp is more than [`TOLERANCE_SECS`] away from now: possibly a replay.
    OutsideTolerance,
    /// No `v1` signature matches the payload.
    Mismatch,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureError::Malformed => "the Stripe-Signature header is malformed",
            SignatureError::OutsideTolerance => {
                "the signature's timestamp is outside the tolerance"
            }
            SignatureError::Mismatch => "no signature matches the payload",
        })
    }
}

impl std::error::Error for SignatureError {}

/// Checks a `Stripe-Signature` header against the raw body, at `now` (Unix seconds).
///
/// Any of several `v1` signatures may match (Stripe sends one per secret while a secret is being rolled);
/// `v0` and unknown schemes are ignored. Signatures are compared in constant time.
pub fn verify(secret: &str, header: &str, payload: &[u8], now: u64) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = Some(t),
            Some(("v1", signature)) => signatures.push(signature),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return Err(SignatureError::Malformed);
    };
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let sent_at: u64 = timestamp.parse().map_err(|_| SignatureError::Malformed)?;
    if now.abs_diff(sent_at) > TOLERANCE_SECS {
        return Err(SignatureError::OutsideTolerance);
    }
    if secret.is_empty() {
        // A missing secret must not make every signature made with an empty key valid.
        return Err(SignatureError::Mismatch);
    }
    let expected = mac(secret, timestamp, payload);
    let matches = |signature: &&str| {
        // `verify_slice` compares in constant time.
        hex::decode(signature)
            .is_ok_and(|signature| expected.clone().verify_slice(&signature).is_ok())
    };
    if signatures.iter().any(matches) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The `Stripe-Signature` header Stripe would send for `payload` at `timestamp`: for tests and local tries,
/// like Stripe's `generateTestHeaderString`.
pub fn sign(secret: &str, timestamp: u64, payload: &[u8]) -> String {
    let timestamp = timestamp.to_string();
    let signature = mac(secret, &timestamp, payload).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(signature))
}

fn mac(secret: &str, timestamp: &str, payload: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac
}

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: serde_json::Value,
}

#[derive(Deserialize)]
struct CheckoutSession {
    /// `null` for a one-time payment.
    subscription: Option<String>,
    #[serde(default)]
    metadata: HashMap<String, String>,
}

#[derive(Deserialize)]
struct Subscription {
    id: String,
}

async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    payload: Bytes,
) -> Result<Response, convex::Error> {
    // Verify before parsing: nothing in an unsigned body is trusted, not even its JSON.
    let Some(signature) = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(reject(
            StatusCode::BAD_REQUEST,
            "missing Stripe-Signature header",
        ));
    };
    if let Err(err) = verify(
        state.webhook_secret.expose(),
        signature,
        &payload,
        now_secs(),
    ) {
        tracing::warn!(%err, "refused a Stripe webhook");
        return Ok(reject(StatusCode::BAD_REQUEST, "invalid signature"));
    }
    let Ok(event) = serde_json::from_slice::<Event>(&payload) else {
        return Ok(reject(StatusCode::BAD_REQUEST, "not a Stripe event"));
    };

    match event.kind.as_str() {
        "checkout.session.completed" => {
            let Ok(session) = serde_json::from_value::<CheckoutSession>(event.data.object) else {
                return Ok(reject(StatusCode::BAD_REQUEST, "not a checkout session"));
            };
            let Some(user_id) = session.metadata.get("userId") else {
                return Ok(reject(
                    StatusCode::BAD_REQUEST,
                    "the session has no metadata.userId",
                ));
            };
            match session.subscription {
                Some(subscription) => {
                    api::activate_subscription(user_id.clone(), subscription)
                        .on(&state.convex)
                        .await?;
                }
                None => tracing::info!("checkout without a subscription: nothing to activate"),
            }
        }
        "customer.subscription.deleted" => {
            let Ok(subscription) = serde_json::from_value::<Subscription>(event.data.object) else {
                return Ok(reject(StatusCode::BAD_REQUEST, "not a subscription"));
            };
            api::cancel_subscription(subscription.id)
                .on(&state.convex)
                .await?;
        }
        other => tracing::debug!(event = other, "ignored a Stripe event"),
    }
    Ok(Json(json!({ "received": true })).into_response())
}

fn now_secs() -> u64 {
    crate::now_millis() / 1000
}
