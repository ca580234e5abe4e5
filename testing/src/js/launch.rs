//! Finding Node.js and the Node server, and starting it: the checks that turn "it did not start" into a
//! reason, then the spawn and the first line of its stdout.

use super::error::{JsError, MIN_NODE_VERSION, classify_exit};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, ChildStdin, Command};

/// How much of the Node server's stderr is kept for error messages: its last bytes.
const STDERR_TAIL_BYTES: usize = 64 * 1024;

/// How long a failed Node server is given to finish writing its error and exit.
const EXIT_GRACE: Duration = Duration::from_secs(10);

/// Where Node.js and the Node server are, before any check.
#[derive(Debug, Clone)]
pub(crate) struct Locations {
    /// The executable: the configured one, or `node` looked up on `PATH`.
    pub(crate) node: PathBuf,
    /// The folder holding the Node server's `package.json`, `src/` and `node_modules/`.
    pub(crate) js_dir: PathBuf,
    /// Where the server's packages are installed when `js_dir` lacks them (default: the user's cache).
    pub(crate) package_cache: Option<PathBuf>,
    /// The app's project folder whose `convex` and `convex-test` the functions run with, found by
    /// [`check`](Self::check).
    app_packages: Option<PathBuf>,
}

impl Locations {
    /// The configured paths, else the environment variables, else `node` and the crate's own `js/`.
    pub(crate) fn resolve(
        node: Option<PathBuf>,
        js_dir: Option<PathBuf>,
        package_cache: Option<PathBuf>,
    ) -> Locations {
        let from_env = |name: &str| {
            std::env::var_os(name)
                .filter(|value| !value.is_empty())
                .map(PathBuf::from)
        };
        Locations {
            node: node
                .or_else(|| from_env(super::NODE_ENV))
                .unwrap_or_else(|| PathBuf::from("node")),
            js_dir: js_dir
                .or_else(|| from_env(super::JS_DIR_ENV))
                .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("js")),
            package_cache,
            app_packages: None,
        }
    }

    fn main_js(&self) -> PathBuf {
        self.js_dir.join("src").join("main.js")
    }

    /// Checks Node's version, the server's files and the functions folder, and makes the server's packages
    /// resolvable (installing them on the first run, see [`install`](super::install)), after which
    /// `js_dir` is the folder the server runs from; returns the functions folder made absolute, the form
    /// the server's messages name it in.
    pub(crate) async fn check(&mut self, convex_dir: &Path) -> Result<PathBuf, JsError> {
        self.check_node().await?;
        let main = self.main_js();
        if !main.is_file() {
            return Err(JsError::ServerMissing { main });
        }
        let (js_dir, cache) = (self.js_dir.clone(), self.package_cache.clone());
        let may_install = super::install::may_install();
        self.js_dir = tokio::task::spawn_blocking(move || {
            super::install::prepare(&js_dir, cache.as_deref(), may_install)
        })
        .await
        .map_err(|err| JsError::Io {
            context: "preparing the Node server's packages".to_owned(),
            source: std::io::Error::other(err),
        })??;
        if !convex_dir.is_dir() {
            return Err(JsError::MissingConvexDir {
                dir: convex_dir.to_owned(),
            });
        }
        let convex_dir = std::path::absolute(convex_dir).map_err(|source| JsError::Io {
            context: format!("resolving `{}`", convex_dir.display()),
            source,
        })?;
        self.app_packages = super::app_packages::find(&convex_dir, &self.js_dir);
        Ok(convex_dir)
    }

    async fn check_node(&self) -> Result<(), JsError> {
        let output = Command::new(&self.node)
            .arg("--version")
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output();
        let output = match tokio::time::timeout(Duration::from_secs(30), output).await {
            Ok(Ok(output)) => output,
            Ok(Err(err)) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(JsError::NodeNotFound {
                    tried: self.node.clone(),
                });
            }
            Ok(Err(err)) => return Err(self.unusable(err.to_string())),
            Err(_) => return Err(self.unusable("it did not answer within 30s".to_owned())),
        };
        let found = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        if !output.status.success() {
            return Err(self.unusable(format!("it exited with {}", output.status)));
        }
        let Some(version) = parse_version(&found) else {
            return Err(self.unusable(format!("it printed {found:?}")));
        };
        if version < MIN_NODE_VERSION {
            return Err(JsError::NodeTooOld {
                node: self.node.clone(),
                found,
            });
        }
        Ok(())
    }

    fn unusable(&self, message: String) -> JsError {
        JsError::NodeUnusable {
            node: self.node.clone(),
            message,
        }
    }

    /// The command running `main.js` on `convex_dir` with `args`, its stdout and stderr piped.
    pub(crate) fn command(&self, convex_dir: &Path, args: &[String]) -> Command {
        let mut command = Command::new(&self.node);
        command
            .arg(self.main_js())
            .arg(convex_dir)
            .args(args)
            .args(
                self.app_packages
                    .iter()
                    .flat_map(|dir| [Path::new("--packages"), dir]),
            )
            .current_dir(&self.js_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }
}

/// `v20.6.1` → `(20, 6)`.
fn parse_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.strip_prefix('v')?.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// The running server process: dropping it closes its stdin, on which the server exits, and kills it.
#[derive(Debug)]
pub(crate) struct Process {
    /// Held open: the server runs until it reads end of file, also when this process dies without dropping.
    stdin: Option<ChildStdin>,
    child: Child,
}

impl Drop for Process {
    fn drop(&mut self) {
        drop(self.stdin.take());
        // `kill_on_drop` would do it too; this also covers a server that ignores the closed stdin.
        let _ = self.child.start_kill();
    }
}

/// The last bytes of a stream, kept by a task reading it to its end.
#[derive(Debug, Clone, Default)]
struct Tail(Arc<Mutex<String>>);

impl Tail {
    fn push(&self, line: &str) {
        let mut text = crate::lock(&self.0);
        text.push_str(line);
        text.push('\n');
        if text.len() > STDERR_TAIL_BYTES {
            let mut cut = text.len() - STDERR_TAIL_BYTES;
            while !text.is_char_boundary(cut) {
                cut += 1;
            }
            text.drain(..cut);
        }
    }

    fn text(&self) -> String {
        crate::lock(&self.0).clone()
    }
}

/// Reads `stream` line by line to its end: each line goes to `tracing` at debug level, and the last ones
/// are kept. Reading it also keeps the server from blocking on a full pipe.
fn drain(
    stream: impl AsyncRead + Unpin + Send + 'static,
    name: &'static str,
) -> (Tail, tokio::task::JoinHandle<()>) {
    let tail = Tail::default();
    let kept = tail.clone();
    let task = tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            tracing::debug!(target: "convex_fetch_testing::js", stream = name, "{line}");
            kept.push(&line);
        }
    });
    (tail, task)
}

/// Spawns the server and waits for the first line of its stdout.
pub(crate) async fn start(
    locations: &Locations,
    convex_dir: &Path,
    args: &[String],
    timeout: Duration,
) -> Result<(Process, String), JsError> {
    let mut command = locations.command(convex_dir, args);
    command.stdin(Stdio::piped());
    let mut child = command.spawn().map_err(|source| JsError::Io {
        context: format!("starting `{}`", locations.node.display()),
        source,
    })?;
    let stdin = child.stdin.take();
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(JsError::Handshake("its output was not piped".to_owned()));
    };
    let (stderr, stderr_done) = drain(stderr, "stderr");
    let mut stdout = BufReader::new(stdout);
    let mut line = String::new();
    let read = tokio::time::timeout(timeout, stdout.read_line(&mut line)).await;
    let process = Process { stdin, child };
    match read {
        Ok(Ok(n)) if n > 0 && line.ends_with('\n') => {
            // Nothing more is expected on stdout; reading it keeps a stray print from blocking the server.
            drain(stdout, "stdout");
            Ok((process, line))
        }
        Ok(Ok(_)) => Err(exited(process, convex_dir, stderr, stderr_done).await),
        Ok(Err(source)) => Err(JsError::Io {
            context: "reading the Node server's first line".to_owned(),
            source,
        }),
        Err(_) => Err(JsError::StartupTimeout {
            timeout,
            stderr: stderr.text(),
        }),
    }
}

/// The error of a server that closed its stdout before its first line: it is exiting; its stderr says why.
async fn exited(
    mut process: Process,
    convex_dir: &Path,
    stderr: Tail,
    stderr_done: tokio::task::JoinHandle<()>,
) -> JsError {
    let status = tokio::time::timeout(EXIT_GRACE, process.child.wait()).await;
    let _ = tokio::time::timeout(EXIT_GRACE, stderr_done).await;
    let status = match status {
        Ok(Ok(status)) => status.to_string(),
        _ => "closed its output without exiting".to_owned(),
    };
    classify_exit(convex_dir, status, stderr.text())
}

/// Runs the server to print something (the spec) and returns its stdout.
pub(crate) async fn output(
    locations: &Locations,
    convex_dir: &Path,
    args: &[String],
    timeout: Duration,
) -> Result<String, JsError> {
    let mut command = locations.command(convex_dir, args);
    command.stdin(Stdio::null());
    let child = command.spawn().map_err(|source| JsError::Io {
        context: format!("starting `{}`", locations.node.display()),
        source,
    })?;
    let output = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(source)) => {
            return Err(JsError::Io {
                context: "running the Node server".to_owned(),
                source,
            });
        }
        Err(_) => {
            return Err(JsError::StartupTimeout {
                timeout,
                stderr: String::new(),
            });
        }
    };
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() {
        return Err(classify_exit(convex_dir, output.status.to_string(), stderr));
    }
    String::from_utf8(output.stdout).map_err(|err| JsError::Io {
        context: "reading the Node server's output".to_owned(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, err),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(parse_version("v20.20.2"), Some((20, 20)));
        assert_eq!(parse_version("v22.1.0"), Some((22, 1)));
        assert!(parse_version("v20.5.1") < Some(MIN_NODE_VERSION));
        assert!(parse_version("v20.6.0") >= Some(MIN_NODE_VERSION));
        assert_eq!(parse_version("20.6.0"), None);
        assert_eq!(parse_version("vx.y"), None);
    }

    #[test]
    fn the_tail_keeps_the_last_bytes() {
        let tail = Tail::default();
        let line = "é".repeat(1000);
        for _ in 0..100 {
            tail.push(&line);
        }
        let text = tail.text();
        assert!(text.len() <= STDERR_TAIL_BYTES);
        assert!(text.ends_with(&format!("{line}\n")));
    }
}
