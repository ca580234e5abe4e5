//! The modules of each published crate (`runtime`, `macros`, `testing`) import each other in one direction
//! only (ARCHITECTURE.md lists them in that order): a cycle between two top-level modules of a crate's `src`,
//! direct or through others, fails this test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file below `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The top-level module a file of `src` belongs to: `wire/exchange.rs` → `wire`, `call.rs` → `call`.
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative.components().next().unwrap().as_os_str();
    first.to_string_lossy().trim_end_matches(".rs").to_owned()
}

/// Whether `super::` in `file` is the crate root: the file is a top-level module (`call.rs`, `wire/mod.rs`).
fn super_is_root(src: &Path, file: &Path) -> bool {
    let depth = file.strip_prefix(src).unwrap().components().count();
    depth == 1 || (depth == 2 && file.file_name().is_some_and(|n| n == "mod.rs"))
}

/// `code` without its line and doc comments, so that a module named in prose is no import. (A `//` in a
/// string cuts its line short too: at worst an import on the rest of that line goes unseen.)
fn without_comments(code: &str) -> String {
    code.lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules of the crate that `code` names after `prefix` (`crate::` or, for a top-level module,
/// `super::`): `crate::wire::post`, and each first name of a group, `crate::{call::Call, client}`.
fn imports(code: &str, prefix: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let name = |text: &str| -> String {
        text.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices(prefix) {
        // `super::super::x` and `$crate::x` are not what they seem from here.
        let before = &code[..at];
        let rest = &code[at + prefix.len()..];
        if before.ends_with("::") || before.ends_with('$') {
            continue;
        }
        let mut names = Vec::new();
        if let Some(group) = rest.trim_start().strip_prefix('{') {
            // The first name of each item of the group, at the group's own depth.
            let mut depth = 0;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && !c.is_whitespace() => {
                        names.push(name(&group[i..]));
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            names.push(name(rest));
        }
        found.extend(names.into_iter().filter(|n| modules.contains(n)));
    }
    found
}

type Graph = BTreeMap<String, BTreeSet<String>>;

/// What each top-level module of the crate in `src` imports of the others. The crate root (`lib.rs`) is left
/// out: it declares the modules, re-exports them and may use any of them; names of its own items
/// (`crate::Error`) are re-exports, not modules. Unit tests may reach anywhere.
fn graph(src: &Path) -> Graph {
    let files = sources(src);
    let modules: BTreeSet<String> = files
        .iter()
        .map(|f| module_of(src, f))
        .filter(|m| m != "lib")
        .collect();
    let mut graph = Graph::new();
    for file in &files {
        let module = module_of(src, file);
        if module == "lib" || file.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let code = std::fs::read_to_string(file).unwrap();
        let code = without_comments(code.split("#[cfg(test)]").next().unwrap_or(""));
        let mut found = imports(&code, "crate::", &modules);
        if super_is_root(src, file) {
            found.extend(imports(&code, "super::", &modules));
        }
        let edges = graph.entry(module.clone()).or_default();
        edges.extend(found.into_iter().filter(|m| *m != module));
    }
    graph
}

/// A path of imports that comes back to where it started, if there is one (depth-first search).
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        let here = path.last()?.clone();
        for next in graph.get(&here).into_iter().flatten() {
            if let Some(at) = path.iter().position(|m| m == next) {
                let mut found = path[at..].to_vec();
                found.push(next.clone());
                return Some(found);
            }
            if !done.contains(next) {
                path.push(next.clone());
                if let Some(found) = visit(graph, path, done) {
                    return Some(found);
                }
                path.pop();
            }
        }
        done.insert(here);
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|start| visit(graph, &mut vec![start.clone()], &mut done))
}

/// The graph of the crate in `<workspace>/<folder>/src`, after checking that it has no loop.
fn one_way(folder: &str) -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(folder)
        .join("src");
    let graph = graph(&src);
    if let Some(found) = find_cycle(&graph) {
        panic!(
            "the modules of {folder}/src import each other in a loop: {}",
            found.join(" → ")
        );
    }
    graph
}

/// Whether `module` uses only modules of `allowed`.
fn uses_only(graph: &Graph, module: &str, allowed: &[&str]) -> bool {
    graph[module].iter().all(|m| allowed.contains(&m.as_str()))
}

#[test]
fn runtime_modules_import_in_one_direction() {
    let graph = one_way("runtime");
    assert!(
        graph.contains_key("wire") && graph.contains_key("call"),
        "{graph:?}"
    );
    // The graph this test guards, for the reader: what the client uses.
    let client = [
        "error",
        "function",
        "limit",
        "live_settings",
        "options",
        "retry",
        "secret",
    ];
    assert!(uses_only(&graph, "client", &client), "{graph:?}");
}

#[test]
fn macro_modules_import_in_one_direction() {
    let graph = one_way("macros");
    assert!(
        graph.contains_key("api") && graph.contains_key("stub"),
        "{graph:?}"
    );
    // `api!` builds on the attribute macros' expansion, never the other way round.
    assert!(!graph["stub"].contains("api"), "{graph:?}");
}

#[test]
fn test_deployment_modules_import_in_one_direction() {
    let graph = one_way("testing");
    assert!(
        graph.contains_key("server") && graph.contains_key("shared"),
        "{graph:?}"
    );
    // The state every front shares knows nothing of the fronts that serve requests with it.
    let shared = [
        "fault",
        "handler",
        "live_state",
        "record",
        "routes",
        "state",
        "storage",
    ];
    assert!(uses_only(&graph, "shared", &shared), "{graph:?}");
}

#[test]
fn the_check_sees_imports_and_loops() {
    let modules: BTreeSet<String> = ["call", "client", "wire"].map(String::from).into();
    let code = without_comments("use crate::call::Call; // crate::client\n/// crate::wire");
    assert_eq!(
        imports(&code, "crate::", &modules),
        ["call".to_owned()].into()
    );
    assert_eq!(
        imports(
            "use super::{\n    call::Call,\n    client::{self, X},\n};",
            "super::",
            &modules
        ),
        ["call".to_owned(), "client".to_owned()].into()
    );
    assert!(imports("super::super::wire::x; $crate::wire", "super::", &modules).is_empty());
    assert!(imports("$crate::wire::x", "crate::", &modules).is_empty());
    let edge = |a: &str, b: &str| (a.to_owned(), [b.to_owned()].into());
    let looping: Graph = [
        edge("call", "wire"),
        edge("wire", "client"),
        edge("client", "call"),
    ]
    .into();
    assert_eq!(find_cycle(&looping).unwrap().len(), 4);
    let straight: Graph = [edge("call", "wire"), edge("wire", "client")].into();
    assert_eq!(find_cycle(&straight), None);
}
