fn main() {
    let client = convex::Client::new("https://happy-otter-123.convex.cloud").unwrap();
    // An untyped action keeps its kind in its type: it cannot be subscribed to either.
    let _updates = client
        .action::<_, String>("reports:generate", serde_json::json!({}))
        .subscribe();
}
