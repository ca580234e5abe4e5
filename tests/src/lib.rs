//! Integration tests of convex-fetch live in `tests/`.
