//! Finding the crate's function spec and reading it once per compilation: `spec = "…"` on the stub, else the
//! `CONVEX_FUNCTION_SPEC` environment variable, else none (nothing is checked).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::LitStr;

use crate::api::spec::{self, Function};

/// The environment variable naming the function spec that stubs and `convex_fetch!` calls are checked
/// against. A relative path is read from the crate's folder (`CARGO_MANIFEST_DIR`).
pub(crate) const SPEC_ENV: &str = "CONVEX_FUNCTION_SPEC";

/// A spec's functions by canonical path.
pub(crate) struct Index {
    pub(crate) functions: HashMap<String, Function>,
}

/// The spec a stub or call is checked against, with the tokens that make the crate recompile when it or the
/// environment variable changes.
pub(crate) struct Loaded {
    pub(crate) index: Option<Arc<Index>>,
    pub(crate) tracking: TokenStream,
}

/// A spec read once per compilation, keyed by the file's path; read again when its size or time changes
/// (a long-lived macro server, as editors run one).
type Cache = HashMap<PathBuf, (Option<SystemTime>, u64, Arc<Index>)>;

static CACHE: Mutex<Option<Cache>> = Mutex::new(None);

/// The paths whose tracking tokens were emitted already in this compilation: once is enough for the crate.
static TRACKED: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

/// The spec named by `spec = "…"` (relative to the crate's folder), else by [`SPEC_ENV`]. An error names the
/// file, at `spec` when it was given there. `conditional`: the caller's expansion may be compiled out
/// (`#[cfg]`), so its tracking tokens do not count as the crate's.
pub(crate) fn load(spec: Option<&LitStr>, conditional: bool) -> syn::Result<Loaded> {
    let env_tracking = {
        let env = SPEC_ENV;
        // `option_env!` makes rustc record the variable, so that cargo rebuilds the crate when it changes.
        quote!(
            const _: ::core::option::Option<&str> = ::core::option_env!(#env);
        )
    };
    let (shown, span) = match spec {
        Some(lit) => (lit.value(), lit.span()),
        None => match std::env::var(SPEC_ENV) {
            Ok(value) if !value.trim().is_empty() => (value, Span::call_site()),
            _ => {
                return Ok(Loaded {
                    index: None,
                    tracking: once(Path::new(""), env_tracking, conditional),
                });
            }
        },
    };
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| ".".into());
    let path = Path::new(&dir).join(&shown);
    let file = path.to_string_lossy().into_owned();
    // Emitted with the first stub only: one error for a missing spec, not one per stub. `include_str!` in a
    // doc attribute makes rustc track the file at a fraction of the cost of an `include_bytes!` constant.
    let tracking = once(
        &path,
        quote! {
            #env_tracking
            #[doc = ::core::include_str!(#file)]
            #[allow(dead_code)]
            struct __ConvexSpecTracking;
        },
        conditional,
    );
    let index = match read(&path) {
        Ok(index) => index,
        Err(_) if tracking.is_empty() => {
            return Ok(Loaded {
                index: None,
                tracking,
            });
        }
        Err(why) => {
            return Err(syn::Error::new(
                span,
                format!(
                    "cannot check against the function spec `{shown}` ({}): {why}. Print it with \
                     `npx convex function-spec > {shown}` (or `convex_fetch_testing::function_spec`), \
                     or unset {SPEC_ENV}",
                    path.display()
                ),
            ));
        }
    };
    Ok(Loaded {
        index: Some(index),
        tracking,
    })
}

/// `tokens` the first time `path` is tracked unconditionally in this compilation, else nothing.
fn once(path: &Path, tokens: TokenStream, conditional: bool) -> TokenStream {
    let mut tracked = TRACKED.lock().unwrap_or_else(PoisonError::into_inner);
    if conditional {
        return if tracked.as_ref().is_some_and(|t| t.contains(path)) {
            TokenStream::new()
        } else {
            tokens
        };
    }
    if tracked
        .get_or_insert_with(HashSet::new)
        .insert(path.to_owned())
    {
        tokens
    } else {
        TokenStream::new()
    }
}

fn read(path: &Path) -> Result<Arc<Index>, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    let stamp = (meta.modified().ok(), meta.len());
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    let cache = cache.get_or_insert_with(HashMap::new);
    if let Some((modified, len, index)) = cache.get(path)
        && (*modified, *len) == stamp
    {
        return Ok(index.clone());
    }
    let json = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let spec = spec::parse(&json)?;
    let functions = spec
        .functions
        .into_iter()
        .map(|f| (f.path.clone(), f))
        .collect();
    let index = Arc::new(Index { functions });
    cache.insert(path.to_owned(), (stamp.0, stamp.1, index.clone()));
    Ok(index)
}
