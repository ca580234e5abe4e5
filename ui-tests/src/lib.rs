//! The compile-fail and compile-pass suite of the convex-fetch macros lives in `tests/`.
