//! The `value!` literal macro.

/// Writes a [`Value`](crate::value::Value) as a literal, in the notation the Convex dashboard uses.
///
/// - `null`, `[…]` and `{…}` as in JSON; field names as identifiers (`count: 1`) or string literals
///   (`"with space": 1`); a trailing comma is fine.
/// - Anything else is a Rust expression, converted with `Value::from`, by its rule: **a plain number is a
///   float64** (`5`, `1.5`, `-3`, as a JS `number`), **an `i64` is an int64** (`5i64`, as a JS `5n`), so is an
///   [`Int64`](crate::value::Int64); `"text"`, `true`, [`Bytes`](crate::value::Bytes) (`Bytes(vec![1, 2])`,
///   as a `Vec<u8>` would be an array), variables, `f64::NAN`, `Some(x)`/`None`, nested `Value`s.
///
/// ```
/// use convex_fetch::value::{Bytes, Value};
///
/// let author = "ada";
/// let v = convex_fetch::value!({
///     author,
///     "page count": 12,
///     views: 1_000_000i64,
///     scores: [1.5, -0.0, f64::INFINITY],
///     cover: Bytes(vec![0xff]),
///     draft: null,
/// });
/// assert_eq!(v.get("author"), Some(&Value::String("ada".into())));
/// assert_eq!(v.get("page count"), Some(&Value::Float64(12.0)));
/// assert_eq!(v.get("views"), Some(&Value::Int64(1_000_000)));
/// assert_eq!(
///     v.to_string(),
///     r#"{ author: "ada", cover: Bytes("/w=="), draft: null, "page count": 12, scores: [1.5, -0, Infinity], views: 1000000n }"#,
/// );
/// ```
///
/// A field written as a name alone (`author`) takes the variable of that name. Types with no conversion
/// (`u64`, `usize`) are compile errors: write `Value::Int64(n)` or `n as f64`. A literal with more than about
/// 110 elements or fields at one level needs a higher `#![recursion_limit]` in the crate that writes it.
#[macro_export]
macro_rules! value {
    // Arrays: the elements done so far in brackets, then the rest.
    (@array [$($done:expr,)*]) => {
        $crate::value::Value::Array(::std::vec![$($done,)*])
    };
    (@array [$($done:expr,)*] null $(, $($rest:tt)*)?) => {
        $crate::value!(@array [$($done,)* $crate::value::Value::Null,] $($($rest)*)?)
    };
    (@array [$($done:expr,)*] [$($inner:tt)*] $(, $($rest:tt)*)?) => {
        $crate::value!(@array [$($done,)* $crate::value!([$($inner)*]),] $($($rest)*)?)
    };
    (@array [$($done:expr,)*] {$($inner:tt)*} $(, $($rest:tt)*)?) => {
        $crate::value!(@array [$($done,)* $crate::value!({$($inner)*}),] $($($rest)*)?)
    };
    (@array [$($done:expr,)*] $next:expr $(, $($rest:tt)*)?) => {
        $crate::value!(@array [$($done,)* $crate::value::Value::from($next),] $($($rest)*)?)
    };

    // Objects: the fields done so far as `(name, value)`, then the rest; one step a field (names written
    // as identifiers and as literals have arms of their own), to keep within the recursion limit.
    (@object [$(($name:expr, $item:expr))*]) => {
        $crate::value::Value::Object(::std::collections::BTreeMap::from([
            $((::std::string::String::from($name), $item),)*
        ]))
    };
    (@object [$($done:tt)*] $name:ident : null $(, $($rest:tt)*)?) => {
        $crate::value!(@object [$($done)* (::core::stringify!($name), $crate::value::Value::Null)] $($($rest)*)?)
    };
    (@object [$($done:tt)*] $name:ident : [$($inner:tt)*] $(, $($rest:tt)*)?) => {
        $crate::value!(@object [$($done)* (::core::stringify!($name), $crate::value!([$($inner)*]))] $($($rest)*)?)
    };
    (@object [$($done:tt)*] $name:ident : {$($inner:tt)*} $(, $($rest:tt)*)?) => {
        $crate::value!(@object [$($done)* (::core::stringify!($name), $crate::value!({$($inner)*}))] $($($rest)*)?)
    };
    (@object [$($done:tt)*] $name:ident : $item:expr $(, $($rest:tt)*)?) => {
        $crate::value!(@object [$($done)* (::core::stringify!($name), $crate::value::Value::from($item))] $($($rest)*)?)
    };
    (@object [$($done:tt)*] $name:literal : null $(, $($rest:tt)*)?) => {
        $crate::value!(@object [$($done)* ($name, $crate::value::Value::Null)] $($($rest)*)?)
    };
    (@object [$($done:tt)*] $name:literal : [$($inner:tt)*] $(, $($rest:tt)*)?) => {
        $crate::value!(@object [$($done)* ($name, $crate::value!([$($inner)*]))] $($($rest)*)?)
    };
    (@object [$($done:tt)*] $name:literal : {$($inner:tt)*} $(, $($rest:tt)*)?) => {
        $crate::value!(@object [$($done)* ($name, $crate::value!({$($inner)*}))] $($($rest)*)?)
    };
    (@object [$($done:tt)*] $name:literal : $item:expr $(, $($rest:tt)*)?) => {
        $crate::value!(@object [$($done)* ($name, $crate::value::Value::from($item))] $($($rest)*)?)
    };
    (@object [$($done:tt)*] $name:ident $(, $($rest:tt)*)?) => {
        $crate::value!(@object [$($done)* (::core::stringify!($name), $crate::value::Value::from($name))] $($($rest)*)?)
    };

    (null) => {
        $crate::value::Value::Null
    };
    ([$($inner:tt)*]) => {
        $crate::value!(@array [] $($inner)*)
    };
    ({$($inner:tt)*}) => {
        $crate::value!(@object [] $($inner)*)
    };
    ($other:expr) => {
        $crate::value::Value::from($other)
    };
}
