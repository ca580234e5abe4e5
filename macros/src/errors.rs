//! Collects every error found in one macro input, each at its own span, so a user sees them all at once.

use std::fmt::Display;

use proc_macro2::TokenStream;
use quote::ToTokens;

/// The errors of one macro input. It must end in [`Errors::finish`]: dropped unfinished, it panics in debug
/// builds (the macros' tests), as a forgotten check would otherwise lose every error it holds.
#[derive(Default)]
pub(crate) struct Errors {
    all: Option<syn::Error>,
    finished: bool,
}

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.all {
            Some(all) => all.combine(error),
            None => self.all = Some(error),
        }
    }

    /// Records an error spanning `tokens`.
    pub(crate) fn at(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// Ok when nothing was recorded; otherwise every recorded error.
    pub(crate) fn finish(mut self) -> syn::Result<()> {
        self.finished = true;
        self.all.take().map_or(Ok(()), Err)
    }

    /// Every recorded error and then `last`, the error that stopped the parse.
    pub(crate) fn finish_with(mut self, last: syn::Error) -> syn::Error {
        self.push(last);
        self.finish().expect_err("an error was just pushed")
    }
}

impl Drop for Errors {
    fn drop(&mut self) {
        // Not while unwinding: a second panic would abort and hide the first.
        if cfg!(debug_assertions) && !self.finished && !std::thread::panicking() {
            panic!("the macro dropped its errors without checking them");
        }
    }
}

/// The macro's output: the expansion, or the errors as `compile_error!`s.
pub(crate) fn output(result: syn::Result<TokenStream>) -> proc_macro::TokenStream {
    result.unwrap_or_else(syn::Error::into_compile_error).into()
}

/// The output of a macro used as an expression: several `compile_error!`s in a row are not one expression, so
/// they go in a block, the last standing for its value (rustc then reports only them).
pub(crate) fn output_expr(result: syn::Result<TokenStream>) -> proc_macro::TokenStream {
    match result {
        Ok(tokens) => tokens.into(),
        Err(error) => {
            let errors: Vec<TokenStream> = error
                .into_iter()
                .map(syn::Error::into_compile_error)
                .collect();
            match errors.as_slice() {
                [one] => one.clone().into(),
                all => quote::quote!({ #(#all)* }).into(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finishing_answers_every_error_in_order() {
        let mut errors = Errors::default();
        errors.at(quote::quote!(a), "first");
        errors.at(quote::quote!(b), "second");
        let all: Vec<String> = errors
            .finish()
            .unwrap_err()
            .into_iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(all, ["first", "second"]);
        assert!(Errors::default().finish().is_ok());
    }

    #[test]
    fn the_stopping_error_comes_last() {
        let mut errors = Errors::default();
        errors.at(quote::quote!(a), "soft");
        let last = syn::Error::new(proc_macro2::Span::call_site(), "hard");
        let all: Vec<String> = errors
            .finish_with(last)
            .into_iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(all, ["soft", "hard"]);
    }

    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "without checking them")]
    fn dropping_unchecked_errors_panics_in_debug_builds() {
        let mut errors = Errors::default();
        errors.at(quote::quote!(a), "lost");
        drop(errors);
    }

    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "without checking them")]
    fn dropping_unchecked_even_when_empty_panics_so_tests_catch_it_on_the_happy_path() {
        drop(Errors::default());
    }
}
