//! `api!("function_spec.json")`: typed stubs for every function of a deployment, from the JSON that
//! `npx convex function-spec` prints.

mod spec;
mod types;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::{LitStr, Token};

use crate::case::{self, ident, pascal, snake};
use crate::stub::{Param, Stub};
use spec::{Function, Spec};
use types::{Side, Types, table_marker};

pub(crate) fn api(input: TokenStream) -> syn::Result<TokenStream> {
    let input: ApiInput = syn::parse2(input)?;
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| ".".into());
    let (spec, path) = read_spec(Path::new(&dir), &input.file)?;
    let krate = crate::crate_path::resolve(input.krate.as_ref());
    let generated = generate(&spec, &krate).map_err(|why| {
        syn::Error::new(
            input.file.span(),
            format!("`{}`: {why}", input.file.value()),
        )
    })?;
    let path = path.to_string_lossy();
    Ok(quote! {
        // Recompiles the user's crate when the spec changes.
        const _: &[u8] = include_bytes!(#path);
        #generated
    })
}

/// `"convex/function_spec.json"`, then optionally `crate = "path"`.
struct ApiInput {
    file: LitStr,
    krate: Option<syn::Path>,
}

const USAGE: &str = "expected the path of a function spec, e.g. `api!(\"convex/function_spec.json\")`, \
                     optionally followed by `, crate = \"path\"`";

impl Parse for ApiInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let file: LitStr = input
            .parse()
            .map_err(|e| syn::Error::new(e.span(), USAGE))?;
        let mut krate = None;
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            if !input.peek(Token![crate]) {
                return Err(input.error(format!("unknown option: {USAGE}")));
            }
            let key: Token![crate] = input.parse()?;
            input.parse::<Token![=]>()?;
            let lit: LitStr = input.parse()?;
            if krate.is_some() {
                return Err(syn::Error::new(
                    key.span,
                    "the option `crate` is given twice",
                ));
            }
            krate = Some(crate::crate_path::parse(&lit)?);
        }
        Ok(ApiInput { file, krate })
    }
}

/// Reads and parses the spec `file` names, relative to `dir` (the crate's directory); also answers the path
/// read, for `include_bytes!`.
fn read_spec(dir: &Path, file: &LitStr) -> syn::Result<(Spec, PathBuf)> {
    let shown = file.value();
    let path = dir.join(&shown);
    let json = std::fs::read_to_string(&path).map_err(|e| {
        syn::Error::new(
            file.span(),
            format!(
                "cannot read the function spec `{shown}` ({}): {e}",
                path.display()
            ),
        )
    })?;
    let spec = spec::parse(&json)
        .map_err(|why| syn::Error::new(file.span(), format!("`{shown}`: {why}")))?;
    Ok((spec, path))
}

/// A module of the generated tree.
#[derive(Default)]
struct Module {
    items: Vec<TokenStream>,
    /// By Rust name: each child's Convex name, its identifier, and the child.
    children: BTreeMap<String, (String, proc_macro2::Ident, Module)>,
    /// The Rust names of the stubs in this module, each with the function it calls.
    stubs: BTreeMap<String, String>,
}

impl Module {
    /// The module at `path` (Convex directory and file names), made where missing; two Convex names that
    /// become one Rust name are an error.
    fn at(&mut self, path: &[String]) -> Result<&mut Module, String> {
        let mut module = self;
        for segment in path {
            let rust_ident = ident(&snake(segment));
            let rust = rust_ident.to_string();
            let (name, _, child) = module
                .children
                .entry(rust.clone())
                .or_insert_with(|| (segment.clone(), rust_ident, Module::default()));
            if name != segment {
                return Err(format!(
                    "the modules `{name}` and `{segment}` would both be the Rust module `{rust}`"
                ));
            }
            module = child;
        }
        Ok(module)
    }

    /// Records a stub's function and args type names, refusing a name two functions would take.
    fn claim(&mut self, rust: String, function: &str) -> Result<(), String> {
        if let Some(other) = self.stubs.get(&rust) {
            return Err(format!(
                "the functions `{other}` and `{function}` would both generate `{rust}`"
            ));
        }
        self.stubs.insert(rust, function.to_owned());
        Ok(())
    }

    fn into_tokens(self) -> TokenStream {
        let items = self.items;
        let children = self.children.into_values().map(|(_, name, module)| {
            let body = module.into_tokens();
            quote!(pub mod #name { #body })
        });
        quote!(#(#items)* #(#children)*)
    }
}

/// The generated code; an error when two names of the spec would make one Rust name.
pub(crate) fn generate(spec: &Spec, krate: &TokenStream) -> Result<TokenStream, String> {
    let mut tables = BTreeSet::new();
    let mut roots: BTreeMap<&str, Module> = BTreeMap::new();
    for function in &spec.functions {
        let root = if function.internal { "internal" } else { "api" };
        // From `api::posts`, the tables module is `super::super::tables`.
        let depth = 1 + function.modules.len();
        let up = std::iter::repeat_n(quote!(super::), depth);
        let mut types = Types {
            krate,
            tables: quote!(#(#up)* tables),
            defs: Vec::new(),
            table_names: &mut tables,
        };
        let stub = stub(function, &mut types, krate);
        let module = roots.entry(root).or_default().at(&function.modules)?;
        module.claim(fn_ident(function).to_string(), &function.path)?;
        module.claim(type_name(function), &function.path)?;
        module.items.append(&mut types.defs);
        module.items.push(stub);
    }
    let mut out = TokenStream::new();
    for (root, module) in roots {
        let name = format_ident!("{root}");
        let doc = match root {
            "api" => "The deployment's public functions, as typed stubs (generated by `api!`).",
            _ => {
                "The deployment's internal functions: they need the admin key (`.admin_key(key)`)."
            }
        };
        let body = module.into_tokens();
        out.extend(quote!(#[doc = #doc] pub mod #name { #body }));
    }
    if !tables.is_empty() {
        let mut markers = BTreeMap::new();
        for table in &tables {
            if let Some(other) = markers.insert(table_marker(table), table) {
                return Err(format!(
                    "the tables `{other}` and `{table}` would both be `tables::{}`",
                    table_marker(table)
                ));
            }
        }
        let markers = markers.iter().map(|(marker, table)| {
            let marker = format_ident!("{marker}");
            let doc = format!("The table `{table}`, for typed ids: `Id<tables::{marker}>`.");
            quote!(#[doc = #doc] #[derive(::core::fmt::Debug)] pub enum #marker {})
        });
        out.extend(quote! {
            /// Marker types of the deployment's tables (generated by `api!`).
            pub mod tables { #(#markers)* }
        });
    }
    if !spec.routes.is_empty() {
        let mut names = BTreeMap::new();
        let mut routes = Vec::new();
        for route in &spec.routes {
            let name = route_const(&route.method, &route.path);
            let (method, path) = (&route.method, &route.path);
            if let Some(other) = names.insert(name.to_string(), format!("{method} {path}")) {
                return Err(format!(
                    "the HTTP routes `{other}` and `{method} {path}` would both be `http::{name}`"
                ));
            }
            let doc = format!("`{method} {path}` on the deployment's site URL.");
            routes.push(quote!(#[doc = #doc] pub const #name: #krate::HttpRoute = #krate::HttpRoute { method: #method, path: #path };));
        }
        out.extend(quote! {
            /// The deployment's HTTP actions, served on its site URL (`https://<name>.convex.site`).
            pub mod http { #(#routes)* }
        });
    }
    Ok(out)
}

/// The stub's function: the export in snake case, `default_` for the default export.
fn fn_ident(function: &Function) -> proc_macro2::Ident {
    if function.export == "default" {
        ident("default_")
    } else {
        ident(&snake(&function.export))
    }
}

/// The stub's args type: the export in PascalCase; its other types are named after it.
fn type_name(function: &Function) -> String {
    case::type_name(&snake(&function.export))
}

/// One function: a typed stub, or for a function without an args validator, a call taking any args.
fn stub(function: &Function, types: &mut Types<'_>, krate: &TokenStream) -> TokenStream {
    let fn_ident = fn_ident(function);
    let type_name = type_name(function);
    let output = function
        .returns
        .as_ref()
        .map(|v| types.rust_type(v, &format!("{type_name}Output"), Side::Output));
    let output_type = output
        .clone()
        .unwrap_or_else(|| quote!(#krate::value::Value));
    let word = function.kind.word();
    let path = &function.path;
    let mut doc = format!("The Convex {word} `{path}`.");
    if function.internal {
        doc.push_str(" Internal: call it with the admin key.");
    }
    let Some(fields) = &function.args else {
        let kind = format_ident!("{}", pascal(word));
        let doc =
            format!("{doc} It declares no args validator, so it takes any serializable args.");
        return quote! {
            #[doc = #doc]
            pub fn #fn_ident<A: #krate::__private::serde::Serialize>(
                args: A,
            ) -> #krate::__private::Call<#krate::__private::Untyped<A, #output_type, #krate::__private::kind::#kind>> {
                #krate::__private::Call::new(#krate::__private::Untyped::new(#path, args))
            }
        };
    };
    let params = fields
        .iter()
        .map(|field| {
            let ty = types.rust_type(
                &field.ty,
                &format!("{type_name}{}", pascal(&snake(&field.name))),
                Side::Args,
            );
            let ty = if field.optional {
                quote!(::core::option::Option<#ty>)
            } else {
                ty
            };
            Param {
                ident: ident(&snake(&field.name)),
                wire: field.name.clone(),
                ty: syn::parse2(ty).unwrap_or_else(|_| syn::parse_quote!(())),
                optional: field.optional,
            }
        })
        .collect();
    let stub = Stub {
        kind: function.kind,
        path: LitStr::new(path, Span::call_site()),
        attrs: vec![syn::parse_quote!(#[doc = #doc])],
        vis: syn::parse_quote!(pub),
        ident: fn_ident,
        args_ident: format_ident!("{type_name}"),
        derives: Vec::new(),
        params,
        // `returns: null` is a function that returns nothing; no validator at all is untyped.
        output: match &function.returns {
            Some(spec::Validator::Null) => None,
            _ => syn::parse2(output_type).ok(),
        },
        fallback: None,
    };
    crate::stub::expand(&stub, krate)
}

/// `POST /webhook` → `POST_WEBHOOK`; a prefix route `/files/*` → `GET_FILES_PREFIX`.
fn route_const(method: &str, path: &str) -> proc_macro2::Ident {
    let (path, prefix) = match path.strip_suffix('*') {
        Some(p) => (p, "_PREFIX"),
        None => (path, ""),
    };
    let words: Vec<String> = path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase)
        .collect();
    let name = if words.is_empty() {
        "ROOT".to_owned()
    } else {
        words.join("_")
    };
    format_ident!("{}_{name}{prefix}", method.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The generated code for the compact spec of the protocol notes, pretty-printed, as a reader would see it.
    /// `UPDATE_SNAPSHOTS=1 cargo test -p convex-fetch-macros` rewrites it after a deliberate change.
    #[test]
    fn generated_code_matches_the_readable_snapshot() {
        let spec = spec::parse(include_str!("../../snapshots/compact_spec.json")).unwrap();
        let file: syn::File = syn::parse2(generate(&spec, &quote!(::convex)).unwrap()).unwrap();
        let generated = prettyplease::unparse(&file);
        let snapshot = concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots/compact_spec.rs");
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::write(snapshot, &generated).unwrap();
        }
        let expected = std::fs::read_to_string(snapshot).unwrap_or_default();
        assert!(
            generated == expected,
            "the generated code changed; see {snapshot}:\n{generated}"
        );
    }

    #[test]
    fn malformed_specs_name_the_json_path() {
        let cases = [
            ("[]", "at `$`: expected an object"),
            (r#"{"functions": 1}"#, "expected `functions`"),
            (
                r#"{"functions": [{"functionType": "Cron"}]}"#,
                "at `$.functions[0].functionType`: unknown function type `Cron`",
            ),
            (
                r#"{"functions": [{"functionType": "Query", "identifier": "a.js:b", "args": {"type": "object", "value": {"x": {"fieldType": {"type": "float32"}}}}}]}"#,
                "at `$.functions[0].args.value.x.fieldType.type`: unknown validator type `float32`",
            ),
            (
                r#"{"functions": [{"functionType": "Query", "identifier": "a::b"}]}"#,
                "at `$.functions[0].identifier`",
            ),
            ("{", "not valid JSON"),
            (
                r#"{"functions": [{"functionType": "Query", "identifier": "my-posts.js:list"}]}"#,
                "at `$.functions[0].identifier`: `my-posts.js:list` is not a function path: the module path `my-posts.js` contains '-'",
            ),
            (
                r#"{"functions": [{"functionType": "Query", "identifier": "a.js:b", "args": {"type": "object", "value": {"a b": {"fieldType": {"type": "any"}}}}}]}"#,
                "at `$.functions[0].args.value.a b`: `a b` is not a valid field name: it contains ' '",
            ),
            (
                r#"{"functions": [{"functionType": "Query", "identifier": "a.js:b", "returns": {"type": "id", "tableName": "2fa"}}]}"#,
                "at `$.functions[0].returns.tableName`: `2fa` is not a valid table name: it starts with a digit",
            ),
            (
                r#"{"functions": [{"functionType": "HttpAction", "method": "G T", "path": "/"}]}"#,
                "at `$.functions[0].method`: `G T` is not an HTTP method",
            ),
        ];
        for (json, expected) in cases {
            let err = spec::parse(json).err().unwrap();
            assert!(err.contains(expected), "{json}: {err}");
        }
    }

    fn generated(functions: &str) -> Result<String, String> {
        let spec = spec::parse(&format!(r#"{{"functions": [{functions}]}}"#)).unwrap();
        let tokens = generate(&spec, &quote!(::convex))?;
        Ok(prettyplease::unparse(&syn::parse2(tokens).unwrap()))
    }

    #[test]
    fn names_of_every_valid_path_become_rust_names() {
        let code = generated(
            r#"{"functionType": "Query", "identifier": "v1.api/2024/feed.js:_1a", "args": {"type": "object", "value": {}}},
               {"functionType": "Query", "identifier": "_.js:default", "args": {"type": "object", "value": {}}}"#,
        )
        .unwrap();
        for expected in [
            "pub mod v1_api {",
            "pub mod _2024 {",
            "pub mod feed {",
            "pub struct T1a {}",
            "pub fn _1a() -> ::convex::__private::Call<T1a>",
            "\"v1.api/2024/feed:_1a\"",
            "pub mod __ {",
            "pub fn default_() -> ::convex::__private::Call<Default>",
            "\"_:default\"",
        ] {
            assert!(code.contains(expected), "no `{expected}` in:\n{code}");
        }
    }

    #[test]
    fn unions_serde_cannot_tell_apart_are_values() {
        let returning = |members: &str| {
            generated(&format!(
                r#"{{"functionType": "Query", "identifier": "u.js:f", "args": {{"type": "object", "value": {{}}}},
                    "returns": {{"type": "union", "value": [{members}]}}}}"#
            ))
            .unwrap()
        };
        let value = "pub fn f() -> ::convex::__private::Call<F>";
        for members in [
            r#"{"type": "bigint"}, {"type": "number"}"#,
            r#"{"type": "literal", "value": {"$integer": "AQAAAAAAAAA="}}, {"type": "number"}"#,
            r#"{"type": "bytes"}, {"type": "array", "value": {"type": "number"}}"#,
            r#"{"type": "string"}, {"type": "any"}"#,
        ] {
            let code = returning(members);
            assert!(code.contains(value), "{code}");
            assert!(
                code.contains("type Output = ::convex::value::Value;")
                    && !code.contains("untagged"),
                "{members}:\n{code}"
            );
        }
        // Members that stay apart keep their enum.
        let code = returning(r#"{"type": "bigint"}, {"type": "string"}"#);
        assert!(code.contains("#[serde(untagged)]"), "{code}");
        // `v.nullable(v.any())` is an optional value.
        let code = returning(r#"{"type": "null"}, {"type": "any"}"#);
        assert!(
            code.contains("type Output = ::core::option::Option<::convex::value::Value>;"),
            "{code}"
        );
    }

    #[test]
    fn names_that_would_clash_in_rust_are_an_error() {
        let query = |identifier: &str| {
            format!(
                r#"{{"functionType": "Query", "identifier": "{identifier}", "args": {{"type": "any"}}}}"#
            )
        };
        for (functions, expected) in [
            (
                [query("v1.api/a.js:x"), query("v1_api/b.js:y")],
                "the modules `v1.api` and `v1_api` would both be the Rust module `v1_api`",
            ),
            (
                [query("posts.js:listAll"), query("posts.js:list_all")],
                "the functions `posts:listAll` and `posts:list_all` would both generate `list_all`",
            ),
        ] {
            let err = generated(&functions.join(",")).unwrap_err();
            assert_eq!(err, expected);
        }
        let id = |export: &str, table: &str| {
            format!(
                r#"{{"functionType": "Query", "identifier": "t.js:{export}", "returns": {{"type": "id", "tableName": "{table}"}}}}"#
            )
        };
        let err = generated(&[id("a", "_storage"), id("b", "storage")].join(",")).unwrap_err();
        assert_eq!(
            err,
            "the tables `_storage` and `storage` would both be `tables::Storage`"
        );
    }

    #[test]
    fn a_spec_that_cannot_be_read_names_the_file_and_where_it_was_looked_for() {
        let dir = std::env::temp_dir().join(format!("convex-fetch-macros-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("specs")).unwrap();
        let file = |name: &str| LitStr::new(name, Span::call_site());

        let missing = read_spec(&dir, &file("specs/no_such_spec.json"))
            .err()
            .unwrap();
        let expected = format!(
            "cannot read the function spec `specs/no_such_spec.json` ({}): ",
            dir.join("specs/no_such_spec.json").display()
        );
        assert!(missing.to_string().starts_with(&expected), "{missing}");

        std::fs::write(dir.join("specs/broken.json"), "{").unwrap();
        let broken = read_spec(&dir, &file("specs/broken.json")).err().unwrap();
        assert!(
            broken
                .to_string()
                .starts_with("`specs/broken.json`: not valid JSON"),
            "{broken}"
        );

        std::fs::write(dir.join("specs/ok.json"), r#"{"functions": []}"#).unwrap();
        let (spec, path) = read_spec(&dir, &file("specs/ok.json")).unwrap();
        assert!(spec.functions.is_empty());
        assert_eq!(path, dir.join("specs/ok.json"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_input_is_a_file_and_optionally_the_crate() {
        let input: ApiInput = syn::parse2(quote!("spec.json", crate = "::my::convex",)).unwrap();
        assert_eq!(input.file.value(), "spec.json");
        let krate = input.krate.unwrap();
        assert_eq!(quote!(#krate).to_string(), quote!(::my::convex).to_string());
        assert!(
            syn::parse2::<ApiInput>(quote!("spec.json"))
                .unwrap()
                .krate
                .is_none()
        );
        for (input, expected) in [
            (quote!(spec), "expected the path of a function spec"),
            (quote!("spec.json", url = "x"), "unknown option"),
            (
                quote!("spec.json", crate = "not a path"),
                "expected a path to the convex-fetch crate",
            ),
            (
                quote!("spec.json", crate = "::a", crate = "::b"),
                "given twice",
            ),
        ] {
            let err = syn::parse2::<ApiInput>(input).err().unwrap();
            assert!(err.to_string().contains(expected), "{err}");
        }
    }
}
