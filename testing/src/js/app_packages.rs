//! The app's own `convex` and `convex-test`: a Convex app has `node_modules/convex`, and Convex's testing
//! guide has it add `convex-test`. When the project around the functions folder has both at versions the
//! Node server supports, the functions run against them, the `convex` the app deploys with, rather than
//! against the server's pinned copies.
//!
//! The rule: each is at least the version the server pins (its `package.json`) and has the same major
//! version (for a `0.x` version, the same minor; for `0.0.x`, a later patch), the versions that keep the
//! API the server uses. Anything else, or only one of the two, and the server's own are used.

use std::path::{Path, PathBuf};

/// The two packages the server takes from the app.
const PACKAGES: [&str; 2] = ["convex", "convex-test"];

/// The nearest folder at or above `convex_dir`'s parent whose `node_modules` has `convex` (as Node finds
/// it from the functions), when it also has `convex-test` and both are at versions the server at
/// `server_dir` supports.
pub(crate) fn find(convex_dir: &Path, server_dir: &Path) -> Option<PathBuf> {
    let project = convex_dir
        .ancestors()
        .skip(1)
        .find(|dir| package_json(dir, "convex").is_file())?;
    for name in PACKAGES {
        let pinned = version_of(&server_dir.join("package.json"), Some(name));
        let found = version_of(&package_json(project, name), None);
        let supported =
            matches!((pinned, found), (Some(pinned), Some(found)) if supports(pinned, found));
        if !supported {
            tracing::debug!(
                target: "convex_fetch_testing::js",
                "the functions run with the Node server's own `{name}`: {} has {}, which is not a version it \
                 supports ({} or later, same major)",
                project.display(),
                found.map_or("none".to_owned(), |v| format!("{}.{}.{}", v.0, v.1, v.2)),
                pinned.map_or("?".to_owned(), |v| format!("{}.{}.{}", v.0, v.1, v.2)),
            );
            return None;
        }
    }
    tracing::debug!(
        target: "convex_fetch_testing::js",
        "the functions run with the app's own convex and convex-test, in {}",
        project.display()
    );
    Some(project.to_owned())
}

fn package_json(project: &Path, name: &str) -> PathBuf {
    project.join("node_modules").join(name).join("package.json")
}

type Version = (u64, u64, u64);

/// The `version` of a package's `package.json`, or with `dependency`, the version it pins for that
/// dependency (an exact version, as the server's lockfile pins them).
fn version_of(manifest: &Path, dependency: Option<&str>) -> Option<Version> {
    let text = std::fs::read_to_string(manifest).ok()?;
    let parsed: serde_json::Value = serde_json::from_str(&text).ok()?;
    let version = match dependency {
        Some(name) => parsed["dependencies"][name].as_str()?,
        None => parsed["version"].as_str()?,
    };
    parse(version)
}

/// `1.48.0` → `(1, 48, 0)`; a pre-release or build suffix is left out.
fn parse(text: &str) -> Option<Version> {
    let core = text.trim().split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|part| part.parse::<u64>().ok());
    let version = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(version)
}

/// Whether `found` is `pinned` or a later version compatible with it, as a caret range reads it.
fn supports(pinned: Version, found: Version) -> bool {
    let same_series = match pinned {
        (0, 0, _) => found.0 == 0 && found.1 == 0,
        (0, minor, _) => found.0 == 0 && found.1 == minor,
        (major, _, _) => found.0 == major,
    };
    same_series && found >= pinned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compatible_with_the_pinned_one_are_supported() {
        assert!(supports((1, 48, 0), (1, 48, 0)));
        assert!(supports((1, 48, 0), (1, 60, 2)));
        assert!(!supports((1, 48, 0), (1, 47, 9)));
        assert!(!supports((1, 48, 0), (2, 0, 0)));
        assert!(supports((0, 0, 71), (0, 0, 80)));
        assert!(!supports((0, 0, 71), (0, 0, 70)));
        assert!(!supports((0, 0, 71), (0, 1, 0)));
        assert!(supports((0, 3, 1), (0, 3, 9)));
        assert!(!supports((0, 3, 1), (0, 4, 0)));
    }

    #[test]
    fn versions_parse() {
        assert_eq!(parse("1.48.0"), Some((1, 48, 0)));
        assert_eq!(parse("1.49.0-alpha.1"), Some((1, 49, 0)));
        assert_eq!(parse("^1.48.0"), None);
        assert_eq!(parse("1.48"), None);
        assert_eq!(parse("1.48.0.1"), None);
    }
}
