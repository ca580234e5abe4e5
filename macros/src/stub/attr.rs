//! The arguments of `#[query(…)]`, `#[mutation(…)]` and `#[action(…)]`.

use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token};

use crate::case::RenameRule;
use crate::errors::Errors;
use crate::grammar::FunctionPath;

/// What the attribute said, with every problem recorded rather than stopping at the first.
pub(crate) struct StubAttr {
    pub(crate) path: Option<LitStr>,
    pub(crate) rename_all: RenameRule,
    pub(crate) name: Option<Ident>,
    /// `derive(…)`: traits derived on the args struct besides its own `Serialize`.
    pub(crate) derives: Vec<syn::Path>,
    pub(crate) krate: Option<syn::Path>,
    /// `spec = "…"`: the function spec to check this stub against, instead of `CONVEX_FUNCTION_SPEC`'s.
    pub(crate) spec: Option<LitStr>,
    /// `unchecked`: not checked against the function spec (a function not deployed yet).
    pub(crate) unchecked: bool,
    pub(crate) errors: Errors,
    /// Whether the whole attribute was read: if not, a missing path may be in what was not.
    pub(crate) complete: bool,
}

const OPTIONS: &str = "`rename_all = \"…\"`, `name = ArgsType`, `derive(Debug, …)`, `spec = \"…\"`, \
     `unchecked` or `crate = \"path\"`";

impl Parse for StubAttr {
    /// Never fails: an error that stops the parse is recorded with the others, and the rest is skipped, so
    /// that the stub is still validated and expanded.
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut attr = StubAttr {
            path: None,
            rename_all: RenameRule::Camel,
            name: None,
            derives: Vec::new(),
            krate: None,
            spec: None,
            unchecked: false,
            errors: Errors::default(),
            complete: true,
        };
        if let Err(e) = attr.parse_all(input) {
            attr.errors.push(e);
            attr.complete = false;
            input.step(|cursor| {
                let mut rest = *cursor;
                while let Some((_, next)) = rest.token_tree() {
                    rest = next;
                }
                Ok(((), rest))
            })?;
        }
        Ok(attr)
    }
}

/// `#[query(posts:list)]`: the path written without quotes; the message quotes it.
fn unquoted_path(first: &Ident, input: ParseStream<'_>) -> syn::Error {
    let mut text = first.to_string();
    let _ = input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((tt, next)) = rest.token_tree() {
            if matches!(&tt, proc_macro2::TokenTree::Punct(p) if p.as_char() == ',') {
                break;
            }
            text.push_str(&tt.to_string());
            rest = next;
        }
        Ok(((), rest))
    });
    syn::Error::new(
        first.span(),
        format!("write the function path as a string: `\"{text}\"`"),
    )
}

/// A word without a value: an option missing its `= …`, or a flag this attribute does not have.
fn bare_flag(key: &Ident) -> String {
    match key.to_string().as_str() {
        known @ ("rename_all" | "name" | "crate" | "spec") => {
            format!("`{known}` needs a value: expected {OPTIONS}")
        }
        "internal" => {
            "there is no `internal` flag: an internal function is declared like any other, and \
                       called with the admin key (`.admin_key(key)`)"
                .to_owned()
        }
        other => format!("unknown option `{other}`: expected {OPTIONS}"),
    }
}

impl StubAttr {
    fn parse_all(&mut self, input: ParseStream<'_>) -> syn::Result<()> {
        let attr = self;
        while !input.is_empty() {
            if input.peek(LitStr) {
                let lit: LitStr = input.parse()?;
                if attr.path.is_some() {
                    attr.errors.at(&lit, "the function path is given twice");
                } else {
                    if let Err(why) = FunctionPath::parse(&lit.value()) {
                        attr.errors.at(&lit, why);
                    }
                    attr.path = Some(lit);
                }
            } else {
                let key = if input.peek(Token![crate]) {
                    let token: Token![crate] = input.parse()?;
                    Ident::new("crate", token.span)
                } else {
                    input.parse::<Ident>().map_err(|e| {
                        syn::Error::new(
                            e.span(),
                            format!("expected the function path as a string, or {OPTIONS}"),
                        )
                    })?
                };
                if key == "derive" {
                    attr.derive(&key, input)?;
                } else if key == "unchecked" && (input.is_empty() || input.peek(Token![,])) {
                    attr.unchecked = true;
                } else if input.peek(Token![:]) || input.peek(Token![/]) {
                    return Err(unquoted_path(&key, input));
                } else if input.peek(Token![=]) {
                    input.parse::<Token![=]>()?;
                    attr.option(&key, input)?;
                } else {
                    return Err(syn::Error::new(key.span(), bare_flag(&key)));
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(())
    }

    /// The attribute when it could not be parsed at all: no options, and the error.
    pub(crate) fn failed(error: syn::Error) -> StubAttr {
        let mut errors = Errors::default();
        errors.push(error);
        StubAttr {
            path: None,
            rename_all: RenameRule::Camel,
            name: None,
            derives: Vec::new(),
            krate: None,
            spec: None,
            unchecked: false,
            errors,
            complete: false,
        }
    }

    /// `derive(Debug, Clone, Deserialize)`. `Serialize` is refused: the macro writes it, with the wire names.
    fn derive(&mut self, key: &Ident, input: ParseStream<'_>) -> syn::Result<()> {
        if !input.peek(syn::token::Paren) {
            return Err(syn::Error::new(
                key.span(),
                "write the traits to derive in parentheses: `derive(Debug, Clone)`",
            ));
        }
        let content;
        syn::parenthesized!(content in input);
        let paths = content.parse_terminated(syn::Path::parse_mod_style, Token![,])?;
        for path in paths {
            if path.segments.last().is_some_and(|s| s.ident == "Serialize") {
                self.errors.at(
                    &path,
                    "the args struct already implements `Serialize` (the macro writes it with the wire names): \
                     remove it from `derive(…)`",
                );
            } else {
                self.derives.push(path);
            }
        }
        Ok(())
    }

    fn option(&mut self, key: &Ident, input: ParseStream<'_>) -> syn::Result<()> {
        match key.to_string().as_str() {
            "rename_all" => {
                let lit: LitStr = input.parse()?;
                match RenameRule::from_name(&lit.value()) {
                    Some(rule) => self.rename_all = rule,
                    None => self.errors.at(
                        &lit,
                        format!("unknown rename rule: expected {}", RenameRule::NAMES),
                    ),
                }
            }
            "name" => self.name = Some(input.parse()?),
            "spec" => self.spec = Some(input.parse()?),
            "crate" => {
                let lit: LitStr = input.parse()?;
                match crate::crate_path::parse(&lit) {
                    Ok(path) => self.krate = Some(path),
                    Err(e) => self.errors.push(e),
                }
            }
            other => {
                self.errors
                    .at(key, format!("unknown option `{other}`: expected {OPTIONS}"));
                // Skip its value so that the options after it are still checked.
                input.parse::<syn::Expr>()?;
            }
        }
        Ok(())
    }
}
