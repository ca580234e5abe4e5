//! What a handler knows about the call it serves: who is calling, and where its log lines go.

use crate::function_error::FunctionError;
use crate::state::States;
use convex_fetch::FunctionKind;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

/// The context of one function call, given to every handler: the caller's identity and a console whose lines
/// come back in the answer's `logLines`, as `console.log` does in a Convex function.
///
/// Cheap to clone; clones share the log.
///
/// ```
/// use convex_fetch_testing::{Ctx, FunctionError, TestDeployment};
///
/// let builder = TestDeployment::builder().query("users:me", |ctx: Ctx, _: convex_fetch::value::Value| async move {
///     ctx.log("looking up the caller");
///     match ctx.identity() {
///         Some(identity) => Ok(identity["subject"].clone()),
///         None => Err(FunctionError::message("not signed in")),
///     }
/// });
/// # let _ = builder;
/// ```
#[derive(Clone)]
pub struct Ctx {
    inner: Arc<Inner>,
}

struct Inner {
    path: String,
    kind: FunctionKind,
    identity: Option<serde_json::Value>,
    admin: bool,
    log: Mutex<Vec<String>>,
    states: Arc<States>,
}

impl Ctx {
    pub(crate) fn new(
        path: String,
        kind: FunctionKind,
        identity: Option<serde_json::Value>,
        admin: bool,
        states: Arc<States>,
    ) -> Ctx {
        Ctx {
            inner: Arc::new(Inner {
                path,
                kind,
                identity,
                admin,
                log: Mutex::new(Vec::new()),
                states,
            }),
        }
    }

    /// The caller's identity: the JSON registered for its bearer token with
    /// [`TestDeploymentBuilder::token`](super::TestDeploymentBuilder::token), or the identity an admin acts as
    /// (`Authorization: Convex <admin key>:<base64 identity>`). `None` for anonymous and plain admin calls.
    pub fn identity(&self) -> Option<&serde_json::Value> {
        self.inner.identity.as_ref()
    }

    /// Whether the call carried the deployment's admin key (possibly acting as a user).
    pub fn is_admin(&self) -> bool {
        self.inner.admin
    }

    /// The path of the function being run, `module:export` (`posts:list`).
    pub fn path(&self) -> &str {
        &self.inner.path
    }

    /// The kind of the function being run.
    pub fn kind(&self) -> FunctionKind {
        self.inner.kind
    }

    /// The deployment's state of type `S`, registered with
    /// [`TestDeploymentBuilder::state`](crate::TestDeploymentBuilder::state), locked until the guard is dropped
    /// (the guard cannot be held across an `.await`: the handler's future would not be `Send`). With no state of
    /// that type, an error that fails the call and says so.
    ///
    /// ```
    /// use convex_fetch_testing::{Ctx, TestDeployment};
    /// use serde_json::Value;
    ///
    /// #[derive(Default)]
    /// struct Posts(Vec<String>);
    ///
    /// # #[tokio::main] async fn main() {
    /// let deployment = TestDeployment::builder()
    ///     .state(Posts::default())
    ///     .mutation("posts:create", |ctx: Ctx, args: Value| async move {
    ///         let mut posts = ctx.state::<Posts>()?;
    ///         posts.0.push(args["title"].as_str().unwrap_or_default().to_owned());
    ///         Ok(posts.0.len())
    ///     })
    ///     .start()
    ///     .await;
    /// let count: usize = deployment
    ///     .client()
    ///     .mutation("posts:create", serde_json::json!({ "title": "Hello" }))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(count, 1);
    /// assert_eq!(deployment.state::<Posts>().unwrap().0, ["Hello"]);
    /// # }
    /// ```
    pub fn state<S: Send + 'static>(&self) -> Result<MutexGuard<'_, S>, FunctionError> {
        self.inner
            .states
            .get(self.inner.kind != FunctionKind::Query)
    }

    /// Logs a line as `console.log` does: `"[LOG] <msg>"`.
    pub fn log(&self, msg: impl fmt::Display) {
        self.push("LOG", msg);
    }

    /// Logs a line as `console.info` does: `"[INFO] <msg>"`.
    pub fn info(&self, msg: impl fmt::Display) {
        self.push("INFO", msg);
    }

    /// Logs a line as `console.warn` does: `"[WARN] <msg>"`.
    pub fn warn(&self, msg: impl fmt::Display) {
        self.push("WARN", msg);
    }

    /// Logs a line as `console.error` does: `"[ERROR] <msg>"`.
    pub fn error(&self, msg: impl fmt::Display) {
        self.push("ERROR", msg);
    }

    /// Logs a line as `console.debug` does: `"[DEBUG] <msg>"`.
    pub fn debug(&self, msg: impl fmt::Display) {
        self.push("DEBUG", msg);
    }

    fn push(&self, level: &str, msg: impl fmt::Display) {
        super::lock(&self.inner.log).push(format!("[{level}] {msg}"));
    }

    /// The lines logged so far, in order.
    pub(crate) fn log_lines(&self) -> Vec<String> {
        super::lock(&self.inner.log).clone()
    }
}

impl fmt::Debug for Ctx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ctx")
            .field("path", &self.inner.path)
            .field("kind", &self.inner.kind)
            .field("identity", &self.inner.identity)
            .field("is_admin", &self.inner.admin)
            .field("log_lines", &super::lock(&self.inner.log).len())
            .finish()
    }
}
