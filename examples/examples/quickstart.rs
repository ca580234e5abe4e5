//! The quick start: calls a query, a mutation and an action.
fn main() {
    println!("quickstart: coming soon");
}
