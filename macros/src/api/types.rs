//! Rust types for Convex validators, with the named structs and enums they need.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::spec::{Field, Literal, Validator};
use crate::case::{ident, pascal, snake};

/// Which way a value travels: args are sent (`Int64` for int64), results are received (`i64`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Args,
    Output,
}

/// Generates the types of one module's functions.
pub(crate) struct Types<'a> {
    pub(crate) krate: &'a TokenStream,
    /// `super::super::tables`, from where the module stands.
    pub(crate) tables: TokenStream,
    /// Named types defined so far, emitted beside the functions.
    pub(crate) defs: Vec<TokenStream>,
    /// Every table an id refers to.
    pub(crate) table_names: &'a mut std::collections::BTreeSet<String>,
}

impl Types<'_> {
    fn derives(&self, extra: TokenStream) -> TokenStream {
        let krate = self.krate;
        let serde_path = format!("{krate}::__private::serde").replace(' ', "");
        quote! {
            #[derive(
                ::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq, #extra
                #krate::__private::serde::Serialize, #krate::__private::serde::Deserialize
            )]
            #[serde(crate = #serde_path)]
        }
    }

    /// The Rust type of `v`; `name` names the struct or enum it needs, if any.
    pub(crate) fn rust_type(&mut self, v: &Validator, name: &str, side: Side) -> TokenStream {
        let krate = self.krate;
        match v {
            Validator::Null => quote!(()),
            Validator::Number | Validator::Literal(Literal::Number) => quote!(f64),
            Validator::Int64 | Validator::Literal(Literal::Int64) => match side {
                Side::Args => quote!(#krate::value::Int64),
                Side::Output => quote!(i64),
            },
            Validator::Boolean | Validator::Literal(Literal::Boolean) => quote!(bool),
            Validator::String => quote!(::std::string::String),
            Validator::Bytes => quote!(#krate::value::Bytes),
            Validator::Any => quote!(#krate::value::Value),
            Validator::Literal(Literal::String(s)) => {
                self.literal_enum(name, std::slice::from_ref(s))
            }
            Validator::Id(table) => {
                self.table_names.insert(table.clone());
                let marker = format_ident!("{}", table_marker(table));
                let tables = &self.tables;
                quote!(#krate::value::Id<#tables::#marker>)
            }
            Validator::Array(item) => {
                let item = self.rust_type(item, &format!("{name}Item"), side);
                quote!(::std::vec::Vec<#item>)
            }
            Validator::Record(value) => {
                let value = self.rust_type(value, &format!("{name}Value"), side);
                quote!(::std::collections::BTreeMap<::std::string::String, #value>)
            }
            Validator::Object(fields) => self.object(name, fields, side),
            Validator::Union(members) => self.union(name, members, side),
        }
    }

    fn object(&mut self, name: &str, fields: &[Field], side: Side) -> TokenStream {
        let type_ident = format_ident!("{name}");
        let fields: Vec<_> = fields
            .iter()
            .map(|f| {
                let rust = ident(&snake(&f.name));
                let wire = &f.name;
                let ty = self.rust_type(&f.ty, &format!("{name}{}", pascal(&snake(&f.name))), side);
                if f.optional {
                    quote! {
                        #[serde(rename = #wire, default, skip_serializing_if = "::core::option::Option::is_none")]
                        pub #rust: ::core::option::Option<#ty>
                    }
                } else {
                    quote!(#[serde(rename = #wire)] pub #rust: #ty)
                }
            })
            .collect();
        let derives = self.derives(quote!());
        self.defs.push(quote! {
            #derives
            pub struct #type_ident { #(#fields,)* }
        });
        quote!(#type_ident)
    }

    fn literal_enum(&mut self, name: &str, values: &[String]) -> TokenStream {
        let ident = format_ident!("{name}");
        let mut seen = std::collections::BTreeSet::new();
        let variants: Vec<_> = values
            .iter()
            .enumerate()
            .map(|(i, value)| {
                let mut variant = variant_name(value, i);
                if !seen.insert(variant.to_string()) {
                    variant = format_ident!("{variant}{i}");
                }
                quote!(#[serde(rename = #value)] #variant)
            })
            .collect();
        let derives = self.derives(quote!(
            ::core::marker::Copy,
            ::core::cmp::Eq,
            ::core::hash::Hash,
        ));
        self.defs.push(quote! {
            #derives
            pub enum #ident { #(#variants,)* }
        });
        quote!(#ident)
    }

    fn union(&mut self, name: &str, members: &[Validator], side: Side) -> TokenStream {
        let (nulls, others): (Vec<_>, Vec<_>) =
            members.iter().partition(|m| matches!(m, Validator::Null));
        if !nulls.is_empty() && !others.is_empty() {
            // `v.nullable(x)`, or a union with `null` among its members: an `Option` of the rest.
            let inner = match others.as_slice() {
                [one] => self.rust_type(one, name, side),
                _ => self.union_of(name, &others, side),
            };
            return quote!(::core::option::Option<#inner>);
        }
        self.union_of(name, &others, side)
    }

    fn union_of(&mut self, name: &str, members: &[&Validator], side: Side) -> TokenStream {
        let strings: Option<Vec<String>> = members
            .iter()
            .map(|m| match m {
                Validator::Literal(Literal::String(s)) => Some(s.clone()),
                _ => None,
            })
            .collect();
        if let Some(strings) = strings {
            return self.literal_enum(name, &strings);
        }
        if let [one] = members {
            return self.rust_type(one, name, side);
        }
        if indistinct(members) {
            let krate = self.krate;
            return quote!(#krate::value::Value);
        }
        // Anything else: an untagged enum, tried in the spec's member order.
        let ident = format_ident!("{name}");
        let mut used = std::collections::BTreeMap::<&str, usize>::new();
        let variants: Vec<_> = members
            .iter()
            .map(|m| {
                let base = member_name(m);
                let n = used.entry(base).or_default();
                *n += 1;
                let variant = if *n == 1 {
                    format_ident!("{base}")
                } else {
                    format_ident!("{base}{n}")
                };
                let ty = self.rust_type(m, &format!("{name}{variant}"), side);
                quote!(#variant(#ty))
            })
            .collect();
        let derives = self.derives(quote!());
        self.defs.push(quote! {
            #derives
            #[serde(untagged)]
            pub enum #ident { #(#variants,)* }
        });
        quote!(#ident)
    }
}

/// Whether an untagged enum could take a value of one member for another. Serde buffers the value before
/// trying the members, and the buffer holds an int64 and a float64 alike as a number and bytes as a list of
/// numbers, while a `Value` member reads only what the buffer kept. Such a union is a `value::Value`, which
/// keeps the type the value has.
fn indistinct(members: &[&Validator]) -> bool {
    let has = |f: fn(&Validator) -> bool| members.iter().any(|m| f(m));
    has(|m| matches!(m, Validator::Any))
        || (has(|m| matches!(m, Validator::Int64 | Validator::Literal(Literal::Int64)))
            && has(|m| matches!(m, Validator::Number | Validator::Literal(Literal::Number))))
        || (has(|m| matches!(m, Validator::Bytes)) && has(|m| matches!(m, Validator::Array(_))))
}

/// The marker type of a table: `posts` → `Posts`, `_storage` → `Storage`.
pub(crate) fn table_marker(table: &str) -> String {
    if pascal(&snake(table)).is_empty() {
        "Table".to_owned()
    } else {
        crate::case::type_name(&snake(table))
    }
}

fn member_name(v: &Validator) -> &'static str {
    match v {
        Validator::Null => "Null",
        Validator::Number | Validator::Literal(Literal::Number) => "Number",
        Validator::Int64 | Validator::Literal(Literal::Int64) => "Int64",
        Validator::Boolean | Validator::Literal(Literal::Boolean) => "Boolean",
        Validator::String | Validator::Literal(Literal::String(_)) => "String",
        Validator::Bytes => "Bytes",
        Validator::Any => "Any",
        Validator::Id(_) => "Id",
        Validator::Array(_) => "Array",
        Validator::Record(_) => "Record",
        Validator::Object(_) => "Object",
        Validator::Union(_) => "Union",
    }
}

/// An enum variant for a string literal: `"published"` → `Published`, `"in-review"` → `InReview`.
fn variant_name(value: &str, index: usize) -> proc_macro2::Ident {
    let name = pascal(&snake(
        &value.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
    ));
    match name.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => format_ident!("{name}"),
        Some(_) => format_ident!("V{name}"),
        None => format_ident!("Variant{index}"),
    }
}
