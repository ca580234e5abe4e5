//! Rust names for Convex names: identifiers from any name the backend accepts, and per-scope registries that
//! settle collisions deterministically.
//!
//! The rules, which the crate docs repeat:
//! - a name is snake_cased (fields, functions, modules) or PascalCased (types, variants); what cannot stand in
//!   an identifier becomes `_`; a keyword becomes a raw identifier (`r#type`), or takes a `_` where raw is not
//!   allowed (`self_`);
//! - fields lose their leading underscores (`_id` → `id`, `_creationTime` → `creation_time`), and a field
//!   that would then start with a digit or be empty is `field_…` (`2fa` → `field_2fa`);
//! - type names never take a name of the std prelude (`Default`, `String`, `Option`, …);
//! - when two names of one scope would be the same Rust name, or a type name is one of the prelude's, the later
//!   one (in the spec's sorted order) takes the smallest free suffix `2`, `3`, … (`user_id_2`, `SendMessage2`;
//!   `_2` after a digit: `V1_2`);
//! - type names are at most [`MAX_TYPE_NAME`] characters: a longer one is cut, and its suffix keeps it unique.

use std::collections::BTreeSet;

use crate::case::{pascal, snake};

/// The longest generated type name, before a collision suffix.
pub(crate) const MAX_TYPE_NAME: usize = 64;

/// Names a glob import of the generated types must not shadow: the std prelude's types, traits and variants.
const PRELUDE: &[&str] = &[
    "AsMut",
    "AsRef",
    "Box",
    "Clone",
    "Copy",
    "Debug",
    "Default",
    "DoubleEndedIterator",
    "Drop",
    "Eq",
    "Err",
    "ExactSizeIterator",
    "Extend",
    "Fn",
    "FnMut",
    "FnOnce",
    "From",
    "FromIterator",
    "Hash",
    "Into",
    "IntoIterator",
    "Iterator",
    "None",
    "Ok",
    "Option",
    "Ord",
    "PartialEq",
    "PartialOrd",
    "Result",
    "Self",
    "Send",
    "Sized",
    "Some",
    "String",
    "Sync",
    "ToOwned",
    "ToString",
    "TryFrom",
    "TryInto",
    "Unpin",
    "Vec",
];

/// An identifier for any name (a raw one for a keyword, `_` added where needed): never panics.
pub(crate) use crate::case::ident;

/// The snake_case Rust name of a field: `_creationTime` → `creation_time`, `2fa` → `field_2fa`,
/// `first name` → `first_name`.
pub(crate) fn field(wire: &str) -> String {
    let clean: String = wire
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let snake = snake(&clean);
    let trimmed = snake.trim_matches('_');
    // Runs of `_` (from spaces or punctuation) become one.
    let mut out = String::with_capacity(trimmed.len());
    for c in trimmed.chars() {
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, if out.is_empty() { "field" } else { "field_" });
    }
    out
}

/// The snake_case Rust name of a function or module.
pub(crate) fn item(name: &str) -> String {
    snake(name)
}

/// The PascalCase form of any name: `in-review` → `InReview`, `_1a` → `1a` (see [`type_name`]).
pub(crate) fn pascal_of(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    pascal(&snake(&clean))
}

/// A type name: PascalCase, starting with a letter (`T` before one that would not), at most
/// [`MAX_TYPE_NAME`] characters.
pub(crate) fn type_name(name: &str) -> String {
    let mut name = pascal_of(name);
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name.insert(0, 'T');
    }
    name.truncate(MAX_TYPE_NAME);
    name
}

/// The names taken in one scope (a module's types, a struct's fields, an enum's variants).
#[derive(Default)]
pub(crate) struct Scope {
    taken: BTreeSet<String>,
    /// Whether prelude names are refused too (type scopes).
    types: bool,
}

impl Scope {
    /// A scope of type names, where the prelude's names count as taken.
    pub(crate) fn types() -> Scope {
        Scope {
            taken: BTreeSet::new(),
            types: true,
        }
    }

    /// `base`, or with the smallest suffix that is free (`_2` for snake names, `2` for Pascal ones).
    pub(crate) fn claim(&mut self, base: &str) -> String {
        // `V1` takes `V1_2`, not `V12`, which another name may be.
        let sep = if base.starts_with(|c: char| c.is_ascii_uppercase())
            && !base.ends_with(|c: char| c.is_ascii_digit())
        {
            ""
        } else {
            "_"
        };
        let free = |name: &str, taken: &BTreeSet<String>| {
            !(taken.contains(name) || self.types && PRELUDE.contains(&name))
        };
        let mut name = base.to_owned();
        let mut n = 2;
        while !free(&name, &self.taken) {
            name = format!("{base}{sep}{n}");
            n += 1;
        }
        self.taken.insert(name.clone());
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_gives_an_identifier() {
        for (name, expected) in [
            ("type", "r#type"),
            ("self", "self_"),
            ("2fa", "_2fa"),
            ("_", "__"),
            ("", "__"),
            ("a b", "a_b"),
            ("Self", "Self_"),
        ] {
            assert_eq!(ident(name).to_string(), expected, "{name}");
        }
        for (name, expected) in [
            ("_id", "id"),
            ("_creationTime", "creation_time"),
            ("2fa", "field_2fa"),
            ("_", "field"),
            ("_1a", "field_1a"),
            ("first name", "first_name"),
            ("a  b", "a_b"),
            ("userId", "user_id"),
        ] {
            assert_eq!(field(name), expected, "{name}");
        }
        assert_eq!(type_name("_1a"), "T1a");
        assert_eq!(type_name("in-review"), "InReview");
        assert_eq!(type_name(&"a".repeat(200)).len(), MAX_TYPE_NAME);
    }

    #[test]
    fn collisions_take_the_smallest_free_suffix() {
        let mut types = Scope::types();
        assert_eq!(types.claim("Default"), "Default2");
        assert_eq!(types.claim("SendMessage"), "SendMessage");
        assert_eq!(types.claim("SendMessage"), "SendMessage2");
        let mut fields = Scope::default();
        assert_eq!(fields.claim("user_id"), "user_id");
        assert_eq!(fields.claim("user_id"), "user_id_2");
        assert_eq!(fields.claim("String"), "String");
    }
}
