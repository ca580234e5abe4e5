//! Integration tests of convex-fetch live in `tests/`; this library holds what several of them share.

pub mod strategies;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// `tests/js`: the Node scripts that drive the official Convex JS client.
pub fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("js")
}

/// The folder to run `tests/js`'s scripts from, with the pinned official JS client installed: `tests/js`
/// itself after `npm ci --prefix tests/js`, else a copy in the package cache, installed once across test
/// threads and binaries (see `convex_fetch_testing::js`). Never a skip: a machine that cannot install it
/// fails here, saying how.
pub fn js_client_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        convex_fetch_testing::js::installed_copy(js_dir()).unwrap_or_else(|err| {
            panic!("the official Convex JS client (tests/js) could not be installed: {err}")
        })
    })
    .clone()
}
