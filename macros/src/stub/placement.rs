//! Whether a stub stands in a `trait` or `impl` block, told from its source file.
//!
//! An attribute macro is not told where its item stands, and a stub's expansion (a struct, impls, a function)
//! is valid only at module level: in a block, rustc's first error would be "struct is not supported in
//! `trait`s or `impl`s", about a struct the user never wrote. So the macro reads the file at the attribute's
//! position (`Span::local_file`, `line`, `column`) and finds the block around it with a small lexer that knows
//! Rust's comments, strings and char literals. When anything does not add up (no file on disk, a position past
//! its end, a file changed since it was parsed, unbalanced braces), the answer is "not known" and the stub
//! expands as usual: a wrong "yes" would break a valid stub, a wrong "no" only leaves rustc's message.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The block a stub stands in, when it is one a stub cannot stand in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Block {
    Impl,
    Trait,
}

impl Block {
    pub(crate) fn described(self) -> &'static str {
        match self {
            Block::Impl => "an `impl` block",
            Block::Trait => "a `trait` block",
        }
    }
}

/// The block around the attribute at `line` and `column` (1-based, in chars, as `proc_macro::Span` gives
/// them) of the file at `path`, whose text from there must be `attribute` (the attribute's source text) and
/// hold `fn_name` within the item's first lines.
pub(crate) fn block_around(
    path: &Path,
    line: usize,
    column: usize,
    attribute: &str,
    fn_name: &str,
) -> Option<Block> {
    // A file of many stubs is read and lexed once: the last file is kept while its size and time are unchanged.
    thread_local! {
        static LAST: RefCell<Option<Lexed>> = const { RefCell::new(None) };
    }
    let meta = std::fs::metadata(path).ok()?;
    let stamp = (meta.modified().ok()?, meta.len());
    LAST.with_borrow_mut(|last| {
        if !matches!(last, Some(lexed) if lexed.path == path && lexed.stamp == stamp) {
            *last = Some(Lexed::read(path, stamp)?);
        }
        last.as_ref()?
            .block_around(line, column, attribute, fn_name)
    })
}

/// A source file, and where its lines start and its braces are.
struct Lexed {
    path: PathBuf,
    stamp: (SystemTime, u64),
    text: String,
    line_starts: Vec<usize>,
    /// `None` when they do not balance.
    braces: Option<Vec<Braces>>,
}

impl Lexed {
    fn read(path: &Path, stamp: (SystemTime, u64)) -> Option<Lexed> {
        let mut text = std::fs::read_to_string(path).ok()?;
        // rustc drops a byte-order mark before counting columns.
        if text.starts_with('\u{feff}') {
            text.drain(..'\u{feff}'.len_utf8());
        }
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Some(Lexed {
            path: path.to_owned(),
            stamp,
            braces: braces(&text),
            text,
            line_starts,
        })
    }

    fn block_around(
        &self,
        line: usize,
        column: usize,
        attribute: &str,
        fn_name: &str,
    ) -> Option<Block> {
        let start = *self.line_starts.get(line.checked_sub(1)?)?;
        let line_text = self.text[start..].split('\n').next()?;
        let (in_line, _) = line_text.char_indices().nth(column.checked_sub(1)?)?;
        let rest = &self.text[start + in_line..];
        // The text at the position is this stub's, not an older or unsaved version of the file (an editor's
        // macro server may compile the buffer while the file on disk is older).
        let head = rest.get(..2048).unwrap_or(rest);
        if !attribute.starts_with('#') || !rest.starts_with(attribute) || !head.contains(fn_name) {
            return None;
        }
        innermost(self.braces.as_ref()?, start + in_line)
    }
}

/// A `{ … }` pair of the file, and what opened it when that was an `impl` or a `trait`.
#[derive(Debug)]
struct Braces {
    open: usize,
    close: usize,
    block: Option<Block>,
    /// Opened in a macro's call (`name! { … }`, `name!( … { … } )`), whose output may stand elsewhere.
    in_macro_call: bool,
}

/// The block of the innermost braces around `offset`; not known inside a macro's call, which may move its
/// items out of the block they are written in.
fn innermost(braces: &[Braces], offset: usize) -> Option<Block> {
    let around = || {
        braces
            .iter()
            .filter(|b| b.open < offset && offset < b.close)
    };
    if around().any(|b| b.in_macro_call) {
        return None;
    }
    around().max_by_key(|b| b.open).and_then(|b| b.block)
}

/// What has been read of the current item or statement, at one brace level.
#[derive(Default)]
struct Header {
    /// Open `(` and `[`.
    nesting: usize,
    /// The first word after attributes and qualifiers (`pub`, `unsafe`, …); empty when the item or statement
    /// began with something else (a literal, a label, punctuation), so that no later word counts.
    first: Option<String>,
    /// After `#` (`Some(false)`) or `#!` (`Some(true)`), before the attribute's `[`.
    hash: Option<bool>,
    /// The next word is an outer attribute's path.
    attribute_path_next: bool,
    /// An outer attribute the compiler does not define: an attribute macro, which may move the items.
    foreign_attribute: bool,
    /// A `!` after the first word: a macro's call (`name! { … }`, `macro_rules! name { … }`), or an operator,
    /// which only makes the answer "not known".
    macro_call: bool,
}

impl Header {
    fn block(&self) -> Option<Block> {
        if self.nesting > 0 || self.macro_call || self.foreign_attribute {
            return None;
        }
        match self.first.as_deref() {
            Some("impl") => Some(Block::Impl),
            Some("trait") => Some(Block::Trait),
            _ => None,
        }
    }

    fn word(&mut self, word: &str) {
        if std::mem::take(&mut self.attribute_path_next) {
            let built_in = matches!(
                word,
                "cfg"
                    | "allow"
                    | "warn"
                    | "deny"
                    | "forbid"
                    | "expect"
                    | "doc"
                    | "must_use"
                    | "deprecated"
                    | "diagnostic"
                    | "automatically_derived"
                    | "rustfmt"
                    | "clippy"
            );
            self.foreign_attribute |= !built_in;
        }
        let qualifier = matches!(word, "pub" | "unsafe" | "default" | "auto" | "const");
        if self.nesting == 0 && self.first.is_none() && !qualifier {
            self.first = Some(word.to_owned());
        }
    }

    /// Anything but a word, whitespace, an attribute's `#`, `!` and brackets, or `pub(…)`'s parentheses.
    fn other(&mut self) {
        if self.nesting == 0 && self.first.is_none() {
            self.first = Some(String::new());
        }
    }
}

/// Every brace pair of `text`, or `None` when they do not balance (then it was not lexed right).
fn braces(text: &str) -> Option<Vec<Braces>> {
    let bytes = text.as_bytes();
    let mut pairs = Vec::new();
    // The open braces, each with its own header and the enclosing level's, restored at the `}`.
    let mut stack: Vec<(usize, Option<Block>, bool, Header)> = Vec::new();
    let mut header = Header::default();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let hash = header.hash.take();
        match c {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
                header.hash = hash;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = block_comment_end(bytes, i)?;
                header.hash = hash;
                continue;
            }
            b'"' => {
                header.other();
                i = string_end(bytes, i + 1)?;
                i += word_len(&text[i..]); // a suffix
                continue;
            }
            b'\'' => {
                header.other();
                i = quote_end(text, i);
                i += word_len(&text[i..]); // a char literal's suffix
                continue;
            }
            b'{' => {
                let enclosing = std::mem::take(&mut header);
                stack.push((i, enclosing.block(), enclosing.macro_call, enclosing));
            }
            b'}' => {
                let (open, block, in_macro_call, enclosing) = stack.pop()?;
                pairs.push(Braces {
                    open,
                    close: i,
                    block,
                    in_macro_call,
                });
                // A `}` at an item's level ends the item; inside brackets the expression goes on.
                header = if enclosing.nesting == 0 {
                    Header::default()
                } else {
                    enclosing
                };
            }
            b'#' => header.hash = Some(false),
            b'!' if hash == Some(false) => header.hash = Some(true),
            b'!' => header.macro_call |= header.first.is_some(),
            b'[' => {
                header.nesting += 1;
                header.attribute_path_next = hash == Some(false);
            }
            b'(' => header.nesting += 1,
            b')' | b']' => header.nesting = header.nesting.saturating_sub(1),
            b';' if header.nesting == 0 => header = Header::default(),
            _ if c.is_ascii_whitespace() => header.hash = hash,
            _ if c.is_ascii_digit() => {
                header.other();
                i += word_len(&text[i..]);
                continue;
            }
            _ if c == b'_' || c.is_ascii_alphabetic() || c >= 0x80 => {
                let start = i;
                i += word_len(&text[i..]);
                if let Some(end) = prefixed_literal_end(text, &text[start..i], i) {
                    header.other();
                    i = end?;
                    i += word_len(&text[i..]); // a suffix
                    continue;
                }
                if &text[start..i] == "r" && bytes.get(i) == Some(&b'#') {
                    // A raw identifier, `r#impl`: a word, never a keyword.
                    i += 1 + word_len(&text[i + 1..]);
                }
                header.word(&text[start..i]);
                continue;
            }
            _ => header.other(),
        }
        i += 1;
    }
    stack.is_empty().then_some(pairs)
}

/// The length in bytes of the identifier or number at the start of `text`.
/// Every char that is not ASCII counts as a word's: a wrong merge can only make an answer "not known".
fn word_len(text: &str) -> usize {
    text.find(|c: char| c.is_ascii() && !(c == '_' || c.is_ascii_alphanumeric()))
        .unwrap_or(text.len())
}

/// After a `/*` at `at`: the offset past its `*/`, nested comments included.
fn block_comment_end(bytes: &[u8], at: usize) -> Option<usize> {
    let (mut depth, mut i) = (0usize, at);
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => (depth, i) = (depth + 1, i + 2),
            (b'*', b'/') => {
                (depth, i) = (depth - 1, i + 2);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// From inside a `"…"` string at `i`: the offset past its closing quote.
fn string_end(bytes: &[u8], mut i: usize) -> Option<usize> {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// From a `'` at `at`: past the char literal (`'a'`, `'\n'`, `'\u{1F600}'`, `'é'`), or past the lifetime or
/// label it opens.
fn quote_end(text: &str, at: usize) -> usize {
    let rest = &text[at + 1..];
    if rest.starts_with('\\') {
        let after_escape = rest.get(2..).unwrap_or("");
        return after_escape
            .find('\'')
            .map_or(text.len(), |n| at + 3 + n + 1);
    }
    // One char, then a quote: a char literal (a char may be several bytes).
    let char_len = rest.chars().next().map_or(0, char::len_utf8);
    if rest[char_len..].starts_with('\'') {
        at + 2 + char_len
    } else {
        // A lifetime or a label, raw ones (`'r#impl`) too: skip its name, which is no item's first word.
        let raw = if rest.starts_with("r#") { 2 } else { 0 };
        at + 1 + raw + word_len(&rest[raw..])
    }
}

/// When `word` (just read, ending at `i`) is the prefix of a literal (`b"…"`, `r#"…"#`, `br"…"`, `c"…"`,
/// `b'…'`): `Some` of the offset past the literal (`None` inside when it does not end).
fn prefixed_literal_end(text: &str, word: &str, i: usize) -> Option<Option<usize>> {
    let bytes = text.as_bytes();
    match (word, bytes.get(i)) {
        ("b" | "c", Some(b'"')) => Some(string_end(bytes, i + 1)),
        ("b", Some(b'\'')) => Some(Some(quote_end(text, i))),
        ("r" | "br" | "cr", Some(b'"' | b'#')) => {
            let hashes = bytes[i..].iter().take_while(|&&b| b == b'#').count();
            if bytes.get(i + hashes) != Some(&b'"') {
                return None; // `r#ident`
            }
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            let body = i + hashes + 1;
            Some(
                bytes[body..]
                    .windows(close.len())
                    .position(|w| w == close.as_slice())
                    .map(|n| body + n + close.len()),
            )
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STUB: &str = "#[convex::query(\"a:b\")]";

    /// The block around the first `#[convex::` of `source`.
    fn block_of(source: &str) -> Option<Block> {
        let offset = source.find("#[convex::").expect("a stub");
        innermost(&braces(source).expect("balanced"), offset)
    }

    #[test]
    fn a_stub_in_an_impl_or_a_trait_is_found() {
        for (source, block) in [
            (
                "pub struct Posts;\nimpl<T: Clone> Posts where T: Send {\n    #[convex::query(\"a:b\")] fn f();\n}",
                Block::Impl,
            ),
            (
                "unsafe impl Api for X { #[convex::query(\"a:b\")] fn f(); }",
                Block::Impl,
            ),
            (
                "/// Docs.\n#[cfg(test)]\n#[allow(dead_code)]\nimpl X { #[convex::query(\"a:b\")] fn f(); }",
                Block::Impl,
            ),
            (
                "#![allow(x)]\n#![feature(y)]\nimpl X { #[convex::query(\"a:b\")] fn f(); }",
                Block::Impl,
            ),
            (
                "#[allow(dead_code)] pub(crate) trait Api { #[convex::query(\"a:b\")] async fn f(); }",
                Block::Trait,
            ),
            (
                "fn main() { impl X { #[convex::query(\"a:b\")] fn f(); } }",
                Block::Impl,
            ),
        ] {
            assert_eq!(block_of(source), Some(block), "{source}");
        }
    }

    #[test]
    fn a_stub_at_module_level_or_in_a_block_is_not() {
        for source in [
            "#[convex::query(\"a:b\")] pub async fn f();",
            "pub mod api { impl X {} #[convex::query(\"a:b\")] pub async fn f(); }",
            "fn main() { #[convex::query(\"a:b\")] async fn f(); }",
            "impl X { fn g() { #[convex::query(\"a:b\")] async fn f(); } }",
            "fn h() -> impl Fn() { || {} } mod m { #[convex::query(\"a:b\")] async fn f(); }",
            "trait T = Clone; mod m { #[convex::query(\"a:b\")] async fn f(); }",
            // A braced const argument, then `impl Trait` in the return type.
            "fn two() -> W<{ 1 }, impl Sized> { #[convex::query(\"a:b\")] async fn f(); W(()) }",
            // Labels, raw ones too.
            "fn one() { 'r#impl: { #[convex::query(\"a:b\")] async fn f(); } }",
            "fn one() { 'outer: { #[convex::query(\"a:b\")] async fn f(); } }",
        ] {
            assert_eq!(block_of(source), None, "{source}");
        }
    }

    #[test]
    fn a_block_in_a_macro_call_or_under_an_attribute_macro_is_not_known() {
        // Their output may stand elsewhere than the text they were given.
        for source in [
            "macro_rules! m { ($x:ident) => { impl $x { #[convex::query(\"a:b\")] async fn f(); } }; }",
            "flat! { impl Api { #[convex::query(\"a:b\")] async fn f(); } }",
            "flat!( mod x { impl Api { #[convex::query(\"a:b\")] async fn f(); } } );",
            "℘impl! { impl Api { #[convex::query(\"a:b\")] async fn f(); } }",
            "#[some_crate::flatten] impl Api { #[convex::query(\"a:b\")] async fn f(); }",
            "#[cfg_attr(x, flatten)] trait Api { #[convex::query(\"a:b\")] async fn f(); }",
        ] {
            assert_eq!(block_of(source), None, "{source}");
        }
    }

    #[test]
    fn braces_in_comments_literals_and_lifetimes_are_not_counted() {
        let source = r####"
            // impl X {
            /* impl Y { /* nested { */ */
            const A: &str = "impl Z { \" {";
            const B: &str = r##"impl W { "# {"##;
            const C: &[u8] = b"{";
            const D: char = '{';
            const E: u8 = b'{';
            const F: char = '\'';
            const G: char = 'é';
            const H: &CStr = c"{";
            const I: &str = "a"r"{"; // a suffix, not a raw string
            fn f<'a>(x: &'a str) -> &'a str { 'outer: loop { break 'outer x; } }
            let r#impl = 1;
            mod api {
                #[convex::query("a:b")]
                async fn f();
            }"####;
        assert_eq!(block_of(source), None);
        let in_impl = format!("{source}\nimpl Api {{ {STUB} fn g(); }}");
        let offset = in_impl.rfind("#[convex::").unwrap();
        assert_eq!(
            innermost(&braces(&in_impl).unwrap(), offset),
            Some(Block::Impl)
        );
    }

    #[test]
    fn unbalanced_text_is_not_known() {
        assert!(braces("impl X { fn f() {").is_none());
        assert!(braces("impl X { \"unterminated }").is_none());
    }

    /// A file of `text` in a folder of its own, removed when dropped.
    struct File(std::path::PathBuf);

    impl File {
        fn new(name: &str, text: &str) -> File {
            let dir = std::env::temp_dir()
                .join(format!("convex-placement-{name}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("lib.rs"), text).unwrap();
            File(dir)
        }

        fn block_around(&self, line: usize, column: usize, fn_name: &str) -> Option<Block> {
            block_around(&self.0.join("lib.rs"), line, column, STUB, fn_name)
        }
    }

    impl Drop for File {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn positions_are_lines_and_char_columns() {
        let file = File::new(
            "positions",
            &format!("/* «é» */ impl X {{ {STUB} fn f(); }}\r\n\t{STUB} fn f();\n"),
        );
        assert_eq!(file.block_around(1, 20, "f"), Some(Block::Impl));
        assert_eq!(file.block_around(2, 2, "f"), None);
        // Past the line's end or the file's: not known.
        assert_eq!(file.block_around(1, 90, "f"), None);
        assert_eq!(file.block_around(4, 1, "f"), None);
        // rustc counts columns after a byte-order mark.
        let bom = File::new("bom", &format!("\u{feff}impl X {{ {STUB} fn f(); }}"));
        assert_eq!(bom.block_around(1, 10, "f"), Some(Block::Impl));
    }

    #[test]
    fn a_file_other_than_the_one_compiled_is_not_known() {
        let file = File::new(
            "changed",
            &format!("impl Posts {{\n    {STUB}\n    fn list_posts();\n}}\n"),
        );
        assert_eq!(file.block_around(2, 5, "list_posts"), Some(Block::Impl));
        // Another attribute or name at the position: an older text than the one being compiled.
        let path = file.0.join("lib.rs");
        assert_eq!(
            block_around(&path, 2, 5, "#[convex::query(\"c:d\")]", "list_posts"),
            None
        );
        assert_eq!(file.block_around(2, 5, "other"), None);
        assert_eq!(file.block_around(3, 5, "list_posts"), None);
        std::fs::write(
            &path,
            format!("mod api {{\n    {STUB}\n    fn list_posts();\n}}\n"),
        )
        .unwrap();
        assert_eq!(file.block_around(2, 5, "list_posts"), None);
    }
}
