//! The compile-time contract of the macros: every accepted form compiles and runs (`pass/`), every mistake
//! fails with the message in its `.stderr` (`fail/`). Cases are grouped by area: `stub/` (the attribute
//! macros), `inline/` (`convex_fetch!`), `api/` (`api!`), `call/` (using what they generate), `live/`,
//! `storage/`, `testing/` and `axum/` (the runtime's API). See README.md for refreshing the `.stderr` files.

use std::path::Path;

#[test]
fn ui() {
    provide_specs();
    let cases = trybuild::TestCases::new();
    cases.pass("pass/*/*.rs");
    cases.compile_fail("fail/*/*.rs");
}

/// The first line of every message a user sees speaks of their code, never of the expansion's hidden names.
#[test]
fn no_first_line_names_the_hidden_items() {
    let fail = Path::new(env!("CARGO_MANIFEST_DIR")).join("fail");
    let mut checked = 0;
    for area in std::fs::read_dir(&fail).expect("fail/ can be read") {
        let area = area.expect("fail/ can be read").path();
        for case in std::fs::read_dir(&area).expect("an area can be read") {
            let case = case.expect("an area can be read").path();
            if case.extension().is_none_or(|ext| ext != "stderr") {
                continue;
            }
            let text = std::fs::read_to_string(&case).expect("a .stderr can be read");
            let first = text.lines().next().unwrap_or_default();
            for hidden in ["__ConvexArgs", "__private", "Untyped<"] {
                assert!(
                    !first.contains(hidden),
                    "{}: the first line names `{hidden}`: {first}",
                    case.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} .stderr files were found");
}

/// `api!` reads a spec relative to the directory of the crate being compiled, which for these cases is the
/// project trybuild generates in `<target dir>/tests/trybuild/<this package>/`, wherever the target directory
/// is. The specs are copied there, so that the cases name them as `specs/…` under any `CARGO_TARGET_DIR`.
fn provide_specs() {
    // Cargo gives integration tests `<target dir>/tmp`.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is a directory inside the target directory");
    let specs = target
        .join("tests/trybuild")
        .join(env!("CARGO_PKG_NAME"))
        .join("specs");
    std::fs::create_dir_all(&specs).expect("the trybuild project's directory can be written");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs");
    for entry in std::fs::read_dir(&source).expect("ui-tests/specs can be read") {
        let entry = entry.expect("ui-tests/specs can be read");
        std::fs::copy(entry.path(), specs.join(entry.file_name()))
            .expect("a spec can be copied into the trybuild project");
    }
}
