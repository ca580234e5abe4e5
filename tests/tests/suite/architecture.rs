//! The runtime's modules import each other in one direction only (ARCHITECTURE.md draws the graph): a cycle
//! between two modules of `runtime/src`, direct or through others, fails this test.

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

/// The modules of the crate that `code` names as `crate::<module>`, outside comments and doc comments.
fn imports(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in code.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if modules.contains(&name) {
                found.insert(name);
            }
        }
    }
    found
}

type Graph = BTreeMap<String, BTreeSet<String>>;

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

#[test]
fn runtime_modules_import_in_one_direction() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime/src");
    let files = sources(&src);
    let modules: BTreeSet<String> = files
        .iter()
        .map(|f| module_of(&src, f))
        .filter(|m| m != "lib")
        .collect();
    assert!(
        modules.contains("wire") && modules.contains("call"),
        "{modules:?}"
    );
    let mut graph = Graph::new();
    for file in &files {
        let module = module_of(&src, file);
        // Unit tests may reach anywhere; the crate root only declares and re-exports.
        if module == "lib" || file.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let code = std::fs::read_to_string(file).unwrap();
        let code = code.split("#[cfg(test)]").next().unwrap_or("");
        let edges = graph.entry(module.clone()).or_default();
        edges.extend(imports(code, &modules).into_iter().filter(|m| *m != module));
    }
    if let Some(found) = find_cycle(&graph) {
        panic!(
            "the modules import each other in a loop: {}",
            found.join(" → ")
        );
    }
    // The graph this test guards, for the reader: what each module uses.
    assert!(graph["client"].iter().all(|m| {
        [
            "error",
            "function",
            "limit",
            "live_settings",
            "options",
            "retry",
        ]
        .contains(&m.as_str())
    }));
}

#[test]
fn the_check_sees_imports_and_loops() {
    let modules: BTreeSet<String> = ["call", "client", "wire"].map(String::from).into();
    assert_eq!(
        imports("use crate::call::Call; // crate::client", &modules),
        ["call".to_owned()].into()
    );
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
