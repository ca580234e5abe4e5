//! End to end: the Stripe webhook example: signatures checked before anything is written by the TypeScript
//! functions of `examples/convex`.

use convex::FunctionKind;
use convex_fetch_testing::JsDeployment;
use examples::stripe_webhook::{AppState, SignatureError, TOLERANCE_SECS, router, sign, verify};
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

const SECRET: &str = "whsec_test_secret";

async fn start() -> (JsDeployment, String) {
    crate::support::example_app(|deployment| {
        router(AppState {
            convex: deployment.client(),
            webhook_secret: convex::Secret::new(SECRET),
        })
    })
    .await
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn checkout_completed() -> String {
    json!({
        "id": "evt_1",
        "type": "checkout.session.completed",
        "data": { "object": { "id": "cs_1", "subscription": "sub_42", "metadata": { "userId": "user_1" } } },
    })
    .to_string()
}

/// Posts `payload` with the `Stripe-Signature` header `signature` (none when `None`).
async fn deliver(app: &str, payload: &str, signature: Option<String>) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{app}/api/webhooks/stripe"))
        .body(payload.to_owned());
    if let Some(signature) = signature {
        request = request.header("Stripe-Signature", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_str(&response.text().await.unwrap()).unwrap(),
    )
}

#[tokio::test]
async fn checkout_completed_activates_the_subscription() {
    let (deployment, app) = start().await;
    let payload = checkout_completed();

    let answer = deliver(
        &app,
        &payload,
        Some(sign(SECRET, now(), payload.as_bytes())),
    )
    .await;
    assert_eq!(answer, (200, json!({ "received": true })));

    let calls = deployment.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        (calls[0].kind, calls[0].path.as_str()),
        (FunctionKind::Mutation, "subscriptions:activate")
    );
    assert_eq!(
        calls[0].args,
        convex::value!({ "userId": "user_1", "stripeSubscriptionId": "sub_42" })
    );
}

#[tokio::test]
async fn subscription_deleted_cancels_it() {
    let (deployment, app) = start().await;
    let payload = json!({ "type": "customer.subscription.deleted", "data": { "object": { "id": "sub_42" } } }).to_string();

    let answer = deliver(
        &app,
        &payload,
        Some(sign(SECRET, now(), payload.as_bytes())),
    )
    .await;
    assert_eq!(answer, (200, json!({ "received": true })));
    let calls = deployment.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].path, "subscriptions:cancel");
    assert_eq!(
        calls[0].args,
        convex::value!({ "stripeSubscriptionId": "sub_42" })
    );
}

#[tokio::test]
async fn other_event_types_are_acknowledged_and_ignored() {
    let (deployment, app) = start().await;
    let payload =
        json!({ "type": "invoice.paid", "data": { "object": { "id": "in_1" } } }).to_string();

    let answer = deliver(
        &app,
        &payload,
        Some(sign(SECRET, now(), payload.as_bytes())),
    )
    .await;
    assert_eq!(answer, (200, json!({ "received": true })));
    assert!(deployment.calls().is_empty());
}

#[tokio::test]
async fn bad_signatures_are_refused_and_nothing_is_written() {
    let (deployment, app) = start().await;
    let payload = checkout_completed();
    let tampered = payload.replace("user_1", "user_2");
    let now = now();
    let valid = sign(SECRET, now, payload.as_bytes());
    let cases = [
        ("missing", payload.clone(), None),
        (
            "garbage",
            payload.clone(),
            Some("not a signature".to_owned()),
        ),
        ("no v1", payload.clone(), Some(format!("t={now}"))),
        (
            "other secret",
            payload.clone(),
            Some(sign("whsec_other", now, payload.as_bytes())),
        ),
        ("tampered body", tampered, Some(valid.clone())),
        (
            "too old",
            payload.clone(),
            Some(sign(SECRET, now - TOLERANCE_SECS - 60, payload.as_bytes())),
        ),
        (
            "timestamp swapped",
            payload.clone(),
            Some(valid.replacen(&format!("t={now}"), &format!("t={}", now + 1), 1)),
        ),
        (
            "v0 only",
            payload.clone(),
            Some(valid.replace("v1=", "v0=")),
        ),
    ];
    for (case, payload, signature) in cases {
        let (status, body) = deliver(&app, &payload, signature).await;
        assert_eq!(status, 400, "{case}: {body}");
        assert!(body["error"].is_string(), "{case}: {body}");
    }
    assert!(deployment.calls().is_empty(), "{:?}", deployment.calls());
}

#[tokio::test]
async fn a_signed_checkout_without_a_user_is_refused() {
    let (deployment, app) = start().await;
    let payload = json!({ "type": "checkout.session.completed", "data": { "object": { "subscription": "sub_1" } } }).to_string();

    let (status, _) = deliver(
        &app,
        &payload,
        Some(sign(SECRET, now(), payload.as_bytes())),
    )
    .await;
    assert_eq!(status, 400);
    assert!(deployment.calls().is_empty());
}

#[tokio::test]
async fn a_failed_mutation_is_an_error_so_stripe_retries() {
    let (deployment, app) = start().await;
    deployment.fail_next(1, convex_fetch_testing::Fault::DropConnection);
    let payload = checkout_completed();

    let (status, _) = deliver(
        &app,
        &payload,
        Some(sign(SECRET, now(), payload.as_bytes())),
    )
    .await;
    assert_eq!(status, 502);
}

#[test]
fn verify_accepts_any_matching_v1_signature() {
    let payload = br#"{"type":"invoice.paid"}"#;
    let signed = sign(SECRET, 1_700_000_000, payload);
    assert_eq!(verify(SECRET, &signed, payload, 1_700_000_000), Ok(()));
    assert_eq!(
        verify(SECRET, &signed, payload, 1_700_000_000 + TOLERANCE_SECS),
        Ok(())
    );

    // While a secret is rolled, Stripe signs with both: one match is enough.
    let other = sign("whsec_old", 1_700_000_000, payload);
    let v1 = |header: &str| header.split_once(",v1=").unwrap().1.to_owned();
    let both = format!(
        "t=1700000000,v1={},v1={},v0=ignored",
        v1(&other),
        v1(&signed)
    );
    assert_eq!(verify(SECRET, &both, payload, 1_700_000_000), Ok(()));

    assert_eq!(
        verify(SECRET, &signed, payload, 1_700_000_000 + TOLERANCE_SECS + 1),
        Err(SignatureError::OutsideTolerance)
    );
    assert_eq!(
        verify(SECRET, &other, payload, 1_700_000_000),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify(SECRET, "t=soon,v1=00", payload, 1_700_000_000),
        Err(SignatureError::Malformed)
    );
    assert_eq!(
        verify(SECRET, "", payload, 1_700_000_000),
        Err(SignatureError::Malformed)
    );
}
