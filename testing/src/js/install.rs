//! The npm packages of a Node folder (the Node server's, or any folder with a `package.json` and a
//! `package-lock.json`): used where they are when that folder has them, else installed once from the
//! lockfile into a cache folder of their own, never into the folder itself (it may be cargo's read-only
//! registry sources).
//!
//! Layout of the cache, for a folder whose `package.json` is named `name`:
//!
//! ```text
//! <cache>/<name>-<key>/                  the installed packages (package files, node_modules/)
//! <cache>/<name>-<key>/run/<sources>/    a copy of the folder's other files, run from there
//! <cache>/<name>-<key>.lock              held while installing
//! <cache>/<name>-<key>.partial-<pid>     an install under way (or killed: removed by the next one)
//! ```
//!
//! `<key>` hashes this crate's version and the two package files, so a new lockfile installs anew. An
//! install runs under a file lock (one at a time across threads and processes) into a partial folder that
//! is renamed into place only once `npm ci` succeeded: a killed install leaves nothing that looks
//! installed. The copy of the sources is found by Node's module resolution, which climbs from
//! `run/<sources>/` to the `node_modules/` of the install.

use super::error::JsError;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The environment variable naming the cache folder for installed npm packages. Default:
/// `$XDG_CACHE_HOME/convex-fetch-testing`, else the user's cache folder (`~/.cache` on Linux,
/// `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on Windows) followed by `convex-fetch-testing`.
pub const CACHE_DIR_ENV: &str = "CONVEX_TEST_CACHE_DIR";

/// The environment variable that, set to anything but an empty string or `0`, forbids installing npm
/// packages (a hermetic CI): a folder without its packages is then an error naming the command to run.
pub const NO_INSTALL_ENV: &str = "CONVEX_TEST_NO_INSTALL";

/// The environment variable naming the npm executable. Default: `npm` on `PATH` (`npm.cmd` on Windows).
pub const NPM_ENV: &str = "CONVEX_TEST_NPM";

/// The folders installed into by this process, for the tests that count installs.
#[cfg(test)]
pub(crate) static INSTALLS: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// How long one `npm ci` may take before it is stopped: a registry that does not answer makes npm retry for
/// many minutes.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(600);

/// The folder to run `dir`'s scripts from, with every dependency of its `package.json` resolvable: `dir`
/// itself when its `node_modules/` has them, else a copy of it in the cache, installing the packages there
/// first if no earlier run did.
///
/// `cache` overrides [`cache_root`]; `may_install` false (see [`NO_INSTALL_ENV`]) makes missing packages an
/// error instead.
///
/// Blocking: it may run `npm ci` for minutes, and waits for another process installing the same packages.
pub(crate) fn prepare(
    dir: &Path,
    cache: Option<&Path>,
    may_install: bool,
) -> Result<PathBuf, JsError> {
    let manifest = Manifest::read(dir)?;
    if manifest.missing_in(dir).is_none() {
        return Ok(dir.to_owned());
    }
    if !may_install {
        return Err(manifest.packages_missing(dir));
    }
    let cache = match cache {
        Some(cache) => cache.to_owned(),
        None => cache_root()?,
    };
    let installed = cache.join(format!("{}-{:016x}", manifest.name, manifest.key(dir)?));
    if !installed.is_dir() {
        install(dir, &manifest, &cache, &installed)?;
    }
    if let Some(missing) = manifest.missing_in(&installed) {
        return Err(JsError::InstallFailed {
            dir: installed,
            message: format!(
                "`{missing}` is missing after the install; remove the folder to install anew"
            ),
        });
    }
    copy_sources(dir, &installed.join("run"))
}

/// The package files: `package.json`'s name and dependencies.
struct Manifest {
    name: String,
    dependencies: Vec<String>,
}

impl Manifest {
    fn read(dir: &Path) -> Result<Manifest, JsError> {
        let path = dir.join("package.json");
        let invalid = |source| JsError::Io {
            context: format!("reading `{}`", path.display()),
            source,
        };
        let text = std::fs::read_to_string(&path).map_err(invalid)?;
        let parsed: serde_json::Value = serde_json::from_str(&text)
            .map_err(|err| invalid(std::io::Error::new(std::io::ErrorKind::InvalidData, err)))?;
        // The name becomes part of a folder name: keep it to characters that are safe there.
        let name = parsed["name"]
            .as_str()
            .unwrap_or("packages")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        let dependencies = parsed["dependencies"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, _)| name.clone())
            .collect();
        Ok(Manifest { name, dependencies })
    }

    /// The first dependency without its folder under `dir/node_modules/`.
    fn missing_in(&self, dir: &Path) -> Option<&str> {
        self.dependencies
            .iter()
            .find(|name| {
                !dir.join("node_modules")
                    .join(name)
                    .join("package.json")
                    .is_file()
            })
            .map(String::as_str)
    }

    /// The crate's version and the package files, hashed: what the install depends on.
    fn key(&self, dir: &Path) -> Result<u64, JsError> {
        let mut hasher = DefaultHasher::new();
        env!("CARGO_PKG_VERSION").hash(&mut hasher);
        for file in ["package.json", "package-lock.json"] {
            read(&dir.join(file))?.hash(&mut hasher);
        }
        Ok(hasher.finish())
    }

    fn packages_missing(&self, dir: &Path) -> JsError {
        JsError::PackagesMissing {
            missing: self.missing_in(dir).unwrap_or_default().to_owned(),
            command: format!("npm ci --prefix {}", dir.display()),
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, JsError> {
    std::fs::read(path).map_err(|source| JsError::Io {
        context: format!("reading `{}`", path.display()),
        source,
    })
}

/// Whether [`NO_INSTALL_ENV`] allows installing.
pub(crate) fn may_install() -> bool {
    std::env::var_os(NO_INSTALL_ENV).is_none_or(|value| value.is_empty() || value == "0")
}

/// [`CACHE_DIR_ENV`], else the platform's cache folder for the user.
fn cache_root() -> Result<PathBuf, JsError> {
    let var = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
    };
    if let Some(dir) = var(CACHE_DIR_ENV) {
        return Ok(dir);
    }
    let user_cache = if cfg!(windows) {
        var("LOCALAPPDATA")
    } else if cfg!(target_os = "macos") {
        var("HOME").map(|home| home.join("Library").join("Caches"))
    } else {
        var("XDG_CACHE_HOME").or_else(|| var("HOME").map(|home| home.join(".cache")))
    };
    user_cache
        .map(|dir| dir.join("convex-fetch-testing"))
        .ok_or_else(|| JsError::InstallFailed {
            dir: PathBuf::new(),
            message: format!("no cache folder for the npm packages: set {CACHE_DIR_ENV}"),
        })
}

/// Installs the packages into `installed`, under the cache's lock for it; returns at once if another
/// thread or process installed them while this one waited.
fn install(dir: &Path, manifest: &Manifest, cache: &Path, installed: &Path) -> Result<(), JsError> {
    let failed = |message: String| JsError::InstallFailed {
        dir: installed.to_owned(),
        message,
    };
    std::fs::create_dir_all(cache).map_err(|err| failed(format!("creating the cache: {err}")))?;
    let name = file_name(installed);
    let lock = std::fs::File::create(cache.join(format!("{name}.lock")))
        .map_err(|err| failed(format!("creating its lock file: {err}")))?;
    lock.lock()
        .map_err(|err| failed(format!("locking its lock file: {err}")))?;
    if installed.is_dir() {
        return Ok(());
    }
    // Holding the lock, no other install of these packages runs: a partial folder is a killed one's.
    for entry in std::fs::read_dir(cache).into_iter().flatten().flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(&format!("{name}.partial-"))
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let partial = cache.join(format!("{name}.partial-{}", std::process::id()));
    std::fs::create_dir_all(&partial)
        .map_err(|err| failed(format!("creating `{}`: {err}", partial.display())))?;
    let result = (|| {
        for file in ["package.json", "package-lock.json"] {
            std::fs::copy(dir.join(file), partial.join(file))
                .map_err(|err| failed(format!("copying {file}: {err}")))?;
        }
        tracing::info!(
            target: "convex_fetch_testing::js",
            "installing the npm packages of `{}` ({}) into {} with `npm ci`, once",
            dir.display(),
            manifest.dependencies.join(", "),
            installed.display(),
        );
        npm_ci(&partial).map_err(failed)?;
        #[cfg(test)]
        crate::lock(&INSTALLS).push(installed.to_owned());
        std::fs::rename(&partial, installed)
            .map_err(|err| failed(format!("moving the install into place: {err}")))
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&partial);
    }
    result
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Runs `npm ci` in `dir` with the npm of [`NPM_ENV`].
fn npm_ci(dir: &Path) -> Result<(), String> {
    let npm = std::env::var_os(NPM_ENV)
        .filter(|npm| !npm.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(if cfg!(windows) { "npm.cmd" } else { "npm" }));
    npm_ci_with(dir, &npm)
}

/// Runs `npm ci` in `dir`, stopped after [`INSTALL_TIMEOUT`]; the error holds the end of npm's output.
pub(crate) fn npm_ci_with(dir: &Path, npm: &Path) -> Result<(), String> {
    // npm's output goes to a file rather than a pipe, which would need a reader beside the wait.
    let log_path = dir.join("npm-output.log");
    let log =
        std::fs::File::create(&log_path).map_err(|err| format!("creating npm's log: {err}"))?;
    let mut child = Command::new(npm)
        // Dev dependencies are for working on the folder itself, not for running it.
        .args(["ci", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|err| err.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|err| match err.kind() {
            std::io::ErrorKind::NotFound => format!(
                "npm was not found (tried `{}`): install Node.js with npm, set {NPM_ENV} to npm's path, or \
                 install the packages yourself and set {} to the folder",
                npm.display(),
                super::JS_DIR_ENV
            ),
            _ => format!("starting `{}`: {err}", npm.display()),
        })?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > INSTALL_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`npm ci` did not finish within {INSTALL_TIMEOUT:?} (is the npm registry reachable?)"
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(err) => return Err(format!("waiting for npm: {err}")),
        }
    };
    let output = std::fs::read_to_string(&log_path).unwrap_or_default();
    let _ = std::fs::remove_file(&log_path);
    if status.success() {
        return Ok(());
    }
    let lines: Vec<&str> = output.lines().collect();
    let tail = lines[lines.len().saturating_sub(20)..].join("\n");
    Err(format!(
        "`npm ci` failed ({status}); it needs the npm registry, or npm's own cache from an earlier install:\n{tail}"
    ))
}

/// A copy of `dir`'s files (all but `node_modules/`) under `run/<hash of them>/`, made once: copied into a
/// partial folder, then renamed into place, so a reader never sees half a copy.
fn copy_sources(dir: &Path, run: &Path) -> Result<PathBuf, JsError> {
    let mut files = Vec::new();
    list_files(dir, Path::new(""), &mut files)?;
    let mut hasher = DefaultHasher::new();
    for file in &files {
        file.hash(&mut hasher);
        read(&dir.join(file))?.hash(&mut hasher);
    }
    let copy = run.join(format!("{:016x}", hasher.finish()));
    if copy.is_dir() {
        return Ok(copy);
    }
    static COPIES: AtomicU64 = AtomicU64::new(0);
    let partial = run.join(format!(
        ".partial-{}-{}",
        std::process::id(),
        COPIES.fetch_add(1, Ordering::Relaxed)
    ));
    let io = |context: String| move |source| JsError::Io { context, source };
    let result = (|| {
        for file in &files {
            let to = partial.join(file);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(io(format!("creating `{}`", parent.display())))?;
            }
            std::fs::copy(dir.join(file), &to)
                .map_err(io(format!("copying `{}`", file.display())))?;
        }
        match std::fs::rename(&partial, &copy) {
            Ok(()) => Ok(()),
            // Another thread or process made the same copy first.
            Err(_) if copy.is_dir() => Ok(()),
            Err(source) => Err(io(format!("moving `{}` into place", copy.display()))(
                source,
            )),
        }
    })();
    let _ = std::fs::remove_dir_all(&partial);
    result.map(|()| copy)
}

/// The files under `dir/rel`, as paths relative to `dir`, leaving out `node_modules/`.
fn list_files(dir: &Path, rel: &Path, files: &mut Vec<PathBuf>) -> Result<(), JsError> {
    let here = dir.join(rel);
    let entries = std::fs::read_dir(&here).map_err(|source| JsError::Io {
        context: format!("listing `{}`", here.display()),
        source,
    })?;
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let name = entry.file_name();
        if name == "node_modules" {
            continue;
        }
        let path = rel.join(&name);
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => list_files(dir, &path, files)?,
            Ok(kind) if kind.is_file() => files.push(path),
            _ => {}
        }
    }
    Ok(())
}
