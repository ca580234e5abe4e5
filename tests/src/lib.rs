//! Integration tests of convex-fetch live in `tests/`; this library holds what several of them share.

pub mod strategies;

use std::path::{Path, PathBuf};
use std::process::Command;

/// `tests/js`: the Node scripts that drive the official Convex JS client.
pub fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("js")
}

/// Installs the pinned official JS client from the lockfile when it is missing. Never a skip: a machine that
/// cannot install it fails here, saying how.
pub fn ensure_js_client() {
    let installed = js_dir().join("node_modules/convex/package.json");
    if installed.is_file() {
        return;
    }
    let npm = Command::new("npm")
        .args([
            "ci",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "--prefix",
        ])
        .arg(js_dir())
        .status();
    assert!(
        matches!(npm, Ok(status) if status.success()) && installed.is_file(),
        "the official Convex JS client is not installed ({} is missing) and `npm ci --prefix tests/js` \
         failed ({npm:?}); it needs Node.js 18 or later and the npm registry",
        installed.display()
    );
}
