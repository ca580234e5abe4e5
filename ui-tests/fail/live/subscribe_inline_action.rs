fn main() {
    // An inline action cannot be subscribed to: only queries stream their results.
    let _updates = convex::convex_fetch!(action "reports:generate", { month: 3 }).subscribe();
}
