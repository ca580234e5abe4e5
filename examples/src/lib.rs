//! Runnable examples of convex-fetch live in `examples/`.
