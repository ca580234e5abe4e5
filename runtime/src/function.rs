//! Function references: the types that name a Convex function, carry its arguments and declare its result.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::marker::PhantomData;

/// The three kinds of Convex function callable over the HTTP API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FunctionKind {
    /// A read-only function: `POST /api/query`. Safe to retry.
    Query,
    /// A transactional write: `POST /api/mutation`.
    Mutation,
    /// A function with side effects outside the database: `POST /api/action`.
    Action,
}

impl FunctionKind {
    /// The endpoint of the deployment that runs functions of this kind.
    pub const fn endpoint(self) -> &'static str {
        match self {
            FunctionKind::Query => "/api/query",
            FunctionKind::Mutation => "/api/mutation",
            FunctionKind::Action => "/api/action",
        }
    }

    /// The name of the matching fetch helper of server routes, for verbose output: `fetchQuery`, …
    pub(crate) const fn fetch_name(self) -> &'static str {
        match self {
            FunctionKind::Query => "fetchQuery",
            FunctionKind::Mutation => "fetchMutation",
            FunctionKind::Action => "fetchAction",
        }
    }
}

impl fmt::Display for FunctionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FunctionKind::Query => "query",
            FunctionKind::Mutation => "mutation",
            FunctionKind::Action => "action",
        })
    }
}

/// A call to one Convex function: the value names the function and carries its arguments.
///
/// The value serializes as the function's args object. `#[convex::query]`, `#[convex::mutation]` and
/// `#[convex::action]` implement this trait (and the matching kind trait) for the args struct they generate;
/// it can also be implemented by hand:
///
/// ```
/// use convex_fetch::{ConvexFunction, FunctionKind, Query};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize)]
/// struct ListPosts {
///     #[serde(skip_serializing_if = "Option::is_none")]
///     status: Option<String>,
/// }
///
/// #[derive(Deserialize)]
/// struct Post {
///     title: String,
/// }
///
/// impl ConvexFunction for ListPosts {
///     const KIND: FunctionKind = FunctionKind::Query;
///     type Output = Vec<Post>;
///     fn path(&self) -> &str {
///         "posts:list"
///     }
/// }
/// impl Query for ListPosts {}
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Convex function reference",
    label = "expected the args of a Convex function here",
    note = "declare the function with `#[convex::query(\"module:export\")]` (or `mutation`, `action`) and pass its args struct, or use `Untyped`",
    note = "pass the args struct of a stub (`ListPostsQuery {{ status: None }}`), not the stub function or the `Call` it returns: a stub's call is awaited as it is (`list_posts(None).await`)"
)]
pub trait ConvexFunction: Serialize {
    /// Query, mutation or action.
    const KIND: FunctionKind;
    /// What the function returns on success. `()` for a function that returns nothing (`null`).
    type Output: DeserializeOwned + Send + 'static;
    /// The function's path, `"module:export"` (`"posts:list"`, `"admin/users:remove"`).
    fn path(&self) -> &str;
}

/// Marks a [`ConvexFunction`] that is a query; required by [`fetch_query`](crate::fetch_query).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Convex query",
    label = "expected a query here",
    note = "`fetch_query` runs queries only: call a mutation with `fetch_mutation` and an action with `fetch_action`",
    note = "pass the args struct of a stub (`ListPostsQuery {{ status: None }}`), not the stub function or the `Call` it returns: a stub's call is awaited as it is (`list_posts(None).await`)"
)]
pub trait Query: ConvexFunction {}

/// Marks a [`ConvexFunction`] that is a mutation; required by [`fetch_mutation`](crate::fetch_mutation).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Convex mutation",
    label = "expected a mutation here",
    note = "`fetch_mutation` runs mutations only: call a query with `fetch_query` and an action with `fetch_action`",
    note = "pass the args struct of a stub (`ListPostsQuery {{ status: None }}`), not the stub function or the `Call` it returns: a stub's call is awaited as it is (`list_posts(None).await`)"
)]
pub trait Mutation: ConvexFunction {}

/// Marks a [`ConvexFunction`] that is an action; required by [`fetch_action`](crate::fetch_action).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Convex action",
    label = "expected an action here",
    note = "`fetch_action` runs actions only: call a query with `fetch_query` and a mutation with `fetch_mutation`",
    note = "pass the args struct of a stub (`ListPostsQuery {{ status: None }}`), not the stub function or the `Call` it returns: a stub's call is awaited as it is (`list_posts(None).await`)"
)]
pub trait Action: ConvexFunction {}

/// Kind markers for [`Untyped`]: the kind is part of the type, so untyped calls are checked like typed ones.
pub mod kind {
    use super::FunctionKind;

    /// A kind marker type; sealed.
    pub trait Kind: sealed::Sealed + Send + Sync + 'static {
        /// The kind this marker stands for.
        const KIND: FunctionKind;
    }

    /// Marker for queries.
    #[derive(Debug, Clone, Copy)]
    pub enum Query {}
    /// Marker for mutations.
    #[derive(Debug, Clone, Copy)]
    pub enum Mutation {}
    /// Marker for actions.
    #[derive(Debug, Clone, Copy)]
    pub enum Action {}

    impl Kind for Query {
        const KIND: FunctionKind = FunctionKind::Query;
    }
    impl Kind for Mutation {
        const KIND: FunctionKind = FunctionKind::Mutation;
    }
    impl Kind for Action {
        const KIND: FunctionKind = FunctionKind::Action;
    }

    mod sealed {
        pub trait Sealed {}
        impl Sealed for super::Query {}
        impl Sealed for super::Mutation {}
        impl Sealed for super::Action {}
    }
}

/// What an untyped call can decode its result into: any `DeserializeOwned + Send + 'static` type. It names the
/// bound so that a result left without a type gets a message saying what to write.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the result of a Convex call",
    label = "the result must be `DeserializeOwned + Send + 'static`",
    note = "derive `serde::Deserialize` for a type of your own; `!` means the call's result was left without a type: write the type where the result goes (`let posts: Vec<Post> = ….await?`), or give it with `.returning::<T>()` (`.returning::<()>()` discards it)"
)]
pub trait CallOutput: DeserializeOwned + Send + 'static {}

impl<T: DeserializeOwned + Send + 'static> CallOutput for T {}

/// A function named by a string at run time, with any serializable args and any deserializable result.
///
/// For paths that are only known at run time. Prefer a typed stub, or `convex_fetch!`, which checks the path
/// at compile time.
///
/// The result type `O` is whatever the call is decoded into. Where nothing is known of it, make it a
/// [`value::Value`](crate::value::Value), which keeps every Convex type (an int64 stays an int64, bytes stay
/// bytes); it is the default in type position, so `Untyped<A>` is a query returning a `Value`.
///
/// ```
/// use convex_fetch::Untyped;
/// use convex_fetch::value::Value;
/// use serde_json::json;
///
/// let list = Untyped::<_, Vec<Value>>::query("posts:list", json!({ "status": "published" }));
/// let any: Untyped<_> = Untyped::query("posts:count", json!({}));
/// # let _ = (list, any);
/// ```
pub struct Untyped<A, O = crate::value::Value, K = kind::Query> {
    path: String,
    args: A,
    _marker: PhantomData<fn() -> (O, K)>,
}

impl<A, O> Untyped<A, O, kind::Query> {
    /// A query at `path` with `args`.
    pub fn query(path: impl Into<String>, args: A) -> Self {
        Self::new(path, args)
    }
}

impl<A, O> Untyped<A, O, kind::Mutation> {
    /// A mutation at `path` with `args`.
    pub fn mutation(path: impl Into<String>, args: A) -> Self {
        Self::new(path, args)
    }
}

impl<A, O> Untyped<A, O, kind::Action> {
    /// An action at `path` with `args`.
    pub fn action(path: impl Into<String>, args: A) -> Self {
        Self::new(path, args)
    }
}

impl<A, O, K> Untyped<A, O, K> {
    /// A function of kind `K` at `path` with `args`.
    pub fn new(path: impl Into<String>, args: A) -> Self {
        Untyped {
            path: path.into(),
            args,
            _marker: PhantomData,
        }
    }
}

impl<A, O, K> Untyped<A, O, K> {
    /// The same function and args, decoded into `T`.
    pub(crate) fn retyped<T>(self) -> Untyped<A, T, K> {
        Untyped::new(self.path, self.args)
    }
}

impl<A: fmt::Debug, O, K: kind::Kind> fmt::Debug for Untyped<A, O, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Untyped")
            .field("kind", &K::KIND)
            .field("path", &self.path)
            .field("args", &self.args)
            .finish()
    }
}

impl<A: Serialize, O, K> Serialize for Untyped<A, O, K> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.args.serialize(serializer)
    }
}

impl<A: Serialize, O: CallOutput, K: kind::Kind> ConvexFunction for Untyped<A, O, K> {
    const KIND: FunctionKind = K::KIND;
    type Output = O;
    fn path(&self) -> &str {
        &self.path
    }
}

impl<A: Serialize, O: CallOutput> Query for Untyped<A, O, kind::Query> {}
impl<A: Serialize, O: CallOutput> Mutation for Untyped<A, O, kind::Mutation> {}
impl<A: Serialize, O: CallOutput> Action for Untyped<A, O, kind::Action> {}

/// A function whose result is decoded into `T` rather than its declared output: what
/// [`Call::returning`](crate::Call::returning) makes. Kind, path and args are the wrapped function's.
pub struct Returning<F, T> {
    function: F,
    _output: PhantomData<fn() -> T>,
}

impl<F, T> Returning<F, T> {
    pub(crate) fn new(function: F) -> Self {
        Returning {
            function,
            _output: PhantomData,
        }
    }

    /// The wrapped function.
    pub fn inner(&self) -> &F {
        &self.function
    }
}

impl<F: fmt::Debug, T> fmt::Debug for Returning<F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Returning")
            .field("function", &self.function)
            .field("output", &std::any::type_name::<T>())
            .finish()
    }
}

impl<F: Serialize, T> Serialize for Returning<F, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.function.serialize(serializer)
    }
}

impl<F: ConvexFunction, T: CallOutput> ConvexFunction for Returning<F, T> {
    const KIND: FunctionKind = F::KIND;
    type Output = T;
    fn path(&self) -> &str {
        self.function.path()
    }
}

impl<F: Query, T: CallOutput> Query for Returning<F, T> {}
impl<F: Mutation, T: CallOutput> Mutation for Returning<F, T> {}
impl<F: Action, T: CallOutput> Action for Returning<F, T> {}

/// An HTTP action of the deployment, listed by `api!`: a plain HTTP route served on the deployment's site URL
/// (`https://<name>.convex.site`), not through this crate's calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HttpRoute {
    /// The HTTP method: `GET`, `POST`, …
    pub method: &'static str,
    /// The route's path; a prefix route ends in `*`.
    pub path: &'static str,
}

impl HttpRoute {
    /// Whether the route matches every path under its prefix.
    pub fn is_prefix(&self) -> bool {
        self.path.ends_with('*')
    }
}
