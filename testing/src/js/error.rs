//! Why a JS deployment or a function spec could not be had, each case with what to do about it.

use std::path::PathBuf;
use std::time::Duration;

/// The oldest Node.js the Node server runs on (it needs `module.register` and `--import` loaders).
pub const MIN_NODE_VERSION: (u32, u32) = (20, 6);

/// Why [`JsDeployment`](super::JsDeployment) could not start, or [`function_spec`](super::function_spec)
/// could not print the spec.
///
/// The messages name what to do: install Node.js, run `npm ci`, fix the named module.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JsError {
    /// No Node.js executable at the configured path, or none named `node` on `PATH`.
    #[error(
        "Node.js was not found (tried `{}`): install Node.js {}.{} or later, or set {} to its executable",
        tried.display(), MIN_NODE_VERSION.0, MIN_NODE_VERSION.1, super::NODE_ENV
    )]
    NodeNotFound {
        /// The executable that was tried: `node`, or the configured path.
        tried: PathBuf,
    },
    /// Node.js runs but is older than [`MIN_NODE_VERSION`].
    #[error(
        "Node.js {found} at `{}` is too old: convex-fetch-testing's Node server needs {}.{} or later",
        node.display(), MIN_NODE_VERSION.0, MIN_NODE_VERSION.1
    )]
    NodeTooOld {
        /// The executable.
        node: PathBuf,
        /// The version it reported, like `v18.19.0`.
        found: String,
    },
    /// `node --version` failed or printed something that is not a version.
    #[error("`{} --version` did not give a Node.js version: {message}", node.display())]
    NodeUnusable {
        /// The executable.
        node: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The Node server's `src/main.js` is not in the configured folder.
    #[error(
        "the Node server of convex-fetch-testing is not at `{}`: set {} to the folder holding its package.json",
        main.display(), super::JS_DIR_ENV
    )]
    ServerMissing {
        /// The `main.js` looked for.
        main: PathBuf,
    },
    /// The Node server's npm packages (`convex`, `convex-test`, …) are not installed, and installing them
    /// is forbidden by [`NO_INSTALL_ENV`](super::NO_INSTALL_ENV).
    #[error(
        "the Node server's npm packages are not installed ({missing} is missing) and {} forbids installing \
         them: run `{command}`",
        super::NO_INSTALL_ENV
    )]
    PackagesMissing {
        /// The first package found missing.
        missing: String,
        /// The command that installs them: `npm ci --prefix <folder>`.
        command: String,
    },
    /// The npm packages could not be installed into the cache (see [`CACHE_DIR_ENV`](super::CACHE_DIR_ENV)):
    /// npm is missing, the registry cannot be reached, or the cache cannot be written.
    #[error(
        "the npm packages of convex-fetch-testing's Node server could not be installed into `{}`: {message}",
        dir.display()
    )]
    InstallFailed {
        /// The folder they were to be installed into.
        dir: PathBuf,
        /// What went wrong, with the end of npm's output when npm ran.
        message: String,
    },
    /// [`check_function_spec`](super::check_function_spec): the committed spec is missing, or is not the
    /// spec of the functions today.
    #[error(
        "`{}` is not the function spec of the functions in `{}` (missing or stale): run the test again with \
         {}=1 to write it, then review and commit it",
        file.display(), dir.display(), super::UPDATE_SPEC_ENV
    )]
    StaleSpec {
        /// The committed spec.
        file: PathBuf,
        /// The functions folder.
        dir: PathBuf,
    },
    /// The `convex/` folder does not exist or is not a folder.
    #[error("the Convex functions folder `{}` does not exist or is not a folder", dir.display())]
    MissingConvexDir {
        /// The folder as given.
        dir: PathBuf,
    },
    /// A module of the folder failed to load: a syntax or type-stripping error, a throw at import, a bad
    /// import.
    #[error("could not load the Convex functions in `{}`: {file}: {cause}", dir.display())]
    ModuleLoad {
        /// The functions folder.
        dir: PathBuf,
        /// The module that failed, relative to the folder: `tasks.ts`.
        file: String,
        /// The error and its stack, as the Node server printed them.
        cause: String,
    },
    /// The Node server did not print its address in time.
    #[error(
        "the Node server did not start within {timeout:?}{}",
        stderr_suffix(stderr)
    )]
    StartupTimeout {
        /// How long it was given.
        timeout: Duration,
        /// What it printed on stderr meanwhile (its last lines).
        stderr: String,
    },
    /// The Node server stopped before it was ready, or failed to print the spec, for another reason than a
    /// module (a `run` function failed, a port could not be bound, a bad option).
    #[error("the Node server failed ({status}){}", stderr_suffix(stderr))]
    Failed {
        /// How it exited.
        status: String,
        /// What it printed on stderr (its last lines).
        stderr: String,
    },
    /// The Node server's first line was not the JSON it promises.
    #[error("the Node server's first line is not its address JSON: {0}")]
    Handshake(String),
    /// Spawning or talking to a process failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

fn stderr_suffix(stderr: &str) -> String {
    let stderr = stderr.trim();
    if stderr.is_empty() {
        String::new()
    } else {
        format!(":\n{stderr}")
    }
}

/// Reads the Node server's stderr after it exited with 1, finding the module that failed to load in its
/// `error: could not load the Convex functions in <folder>: <file>: <cause>` line.
pub(crate) fn classify_exit(dir: &std::path::Path, status: String, stderr: String) -> JsError {
    const PREFIX: &str = "error: could not load the Convex functions in ";
    if let Some(start) = stderr.find(PREFIX) {
        let rest = &stderr[start + PREFIX.len()..];
        let shown = dir.display().to_string();
        if let Some(rest) = rest
            .strip_prefix(shown.as_str())
            .and_then(|r| r.strip_prefix(": "))
        {
            return match rest.split_once(": ") {
                Some((file, cause)) if !file.contains('\n') => JsError::ModuleLoad {
                    dir: dir.to_owned(),
                    file: file.to_owned(),
                    cause: cause.trim_end().to_owned(),
                },
                // `no such folder` and the like: no module to name.
                _ => JsError::Failed {
                    status,
                    stderr: rest.trim_end().to_owned(),
                },
            };
        }
    }
    JsError::Failed { status, stderr }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn a_load_error_names_the_module_and_its_cause() {
        let stderr = "error: could not load the Convex functions in /app/convex: tasks.ts: Error: boom\n    at x (/app/convex/tasks.ts:5:7)\n";
        match classify_exit(
            Path::new("/app/convex"),
            "exit status: 1".into(),
            stderr.into(),
        ) {
            JsError::ModuleLoad { dir, file, cause } => {
                assert_eq!(dir, Path::new("/app/convex"));
                assert_eq!(file, "tasks.ts");
                assert_eq!(cause, "Error: boom\n    at x (/app/convex/tasks.ts:5:7)");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn other_failures_keep_the_stderr() {
        let stderr = "error: --run init failed: [Request ID: 1] Server Error\n";
        let err = classify_exit(
            Path::new("/app/convex"),
            "exit status: 1".into(),
            stderr.into(),
        );
        assert!(matches!(err, JsError::Failed { .. }), "{err:?}");
        assert!(err.to_string().contains("--run init failed"), "{err}");
    }
}
