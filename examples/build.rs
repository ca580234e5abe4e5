//! The examples' stubs and `convex_fetch!` calls are checked at compile time against the function spec of
//! the functions they call (`convex/function_spec.json`), for this crate only; an app with one crate sets
//! the same variable in `.cargo/config.toml` instead (see the README).

fn main() {
    println!("cargo::rustc-env=CONVEX_FUNCTION_SPEC=convex/function_spec.json");
}
