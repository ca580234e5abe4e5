//! The compile-time contract of the macros: every accepted form compiles and runs (`pass/`), every mistake
//! fails with the message in its `.stderr` (`fail/`). See README.md for refreshing the `.stderr` files.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("pass/*.rs");
    cases.compile_fail("fail/*.rs");
}
