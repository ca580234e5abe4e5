fn main() {
    // Built and dropped: never sent, and nothing says what it returns.
    let _ = convex::convex_fetch!(mutation "tasks:purge", {});
}
