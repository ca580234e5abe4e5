//! `api!("function_spec.json")`: typed stubs for every function of a deployment, from the JSON that
//! `npx convex function-spec` prints.
//!
//! Any valid spec compiles: names are made by the rules of [`names`], types by those of [`types`], and what
//! this version cannot type (an unknown validator type) is a `value::Value`. Problems in the spec itself are
//! errors at the file's literal naming the JSON path.

mod names;
pub(crate) mod spec;
mod types;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{LitStr, Token};

use crate::case::pascal;
use crate::grammar::FunctionPath;
use names::{Scope, ident};
use spec::{Function, Spec};
use types::{ModuleTypes, Side, Types};

pub(crate) fn api(input: TokenStream) -> syn::Result<TokenStream> {
    let input: ApiInput = syn::parse2(input)?;
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| ".".into());
    let (spec, path) = read_spec(Path::new(&dir), &input.file)?;
    let krate = crate::crate_path::resolve(input.krate.as_ref());
    let returns = check_returns(&spec, &input)?;
    let aliases = returns.values().map(|(alias, ty)| {
        quote! {
            #[doc(hidden)]
            #[allow(non_camel_case_types)]
            type #alias = #ty;
        }
    });
    let generated = generate(&spec, &krate, &returns);
    let path = path.to_string_lossy();
    Ok(quote! {
        // Recompiles the user's crate when the spec changes.
        const _: &[u8] = include_bytes!(#path);
        #(#aliases)*
        #generated
    })
}

/// The output types the call sets, by canonical function path: a type alias at the call site (so that the
/// type is read where the user wrote it), and the type.
type Returns = BTreeMap<String, (Ident, syn::Type)>;

/// Each `returns` entry names a function of the spec, once.
fn check_returns(spec: &Spec, input: &ApiInput) -> syn::Result<Returns> {
    let known: BTreeSet<&str> = spec.functions.iter().map(|f| f.path.as_str()).collect();
    let mut out = Returns::new();
    for (i, (lit, ty)) in input.returns.iter().enumerate() {
        let path = FunctionPath::parse(&spec::as_js(&lit.value()))
            .map_err(|why| syn::Error::new(lit.span(), format!("not a function path: {why}")))?
            .canonical();
        if !known.contains(path.as_str()) {
            return Err(syn::Error::new(
                lit.span(),
                format!("the spec `{}` has no function `{path}`", input.file.value()),
            ));
        }
        let alias = format_ident!("__convex_api_returns_{i}");
        if out.insert(path.clone(), (alias, ty.clone())).is_some() {
            return Err(syn::Error::new(
                lit.span(),
                format!("the output of `{path}` is given twice"),
            ));
        }
    }
    Ok(out)
}

/// `"convex/function_spec.json"`, then optionally `crate = "path"` and `returns { "module:export" => Type, … }`.
struct ApiInput {
    file: LitStr,
    krate: Option<syn::Path>,
    returns: Vec<(LitStr, syn::Type)>,
}

const USAGE: &str = "expected the path of a function spec, e.g. `api!(\"convex/function_spec.json\")`, \
                     optionally followed by `, crate = \"path\"` and `, returns { \"posts:list\" => Vec<Post> }`";

struct ReturnsEntry(LitStr, syn::Type);

impl Parse for ReturnsEntry {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let path: LitStr = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected a function path: `\"posts:list\" => Vec<Post>`",
            )
        })?;
        input.parse::<Token![=>]>()?;
        Ok(ReturnsEntry(path, input.parse()?))
    }
}

impl Parse for ApiInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let file: LitStr = input
            .parse()
            .map_err(|e| syn::Error::new(e.span(), USAGE))?;
        let mut krate = None;
        let mut returns: Option<Vec<(LitStr, syn::Type)>> = None;
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            if input.peek(Token![crate]) {
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
                continue;
            }
            let key: syn::Ident = input
                .parse()
                .map_err(|e| syn::Error::new(e.span(), format!("unknown option: {USAGE}")))?;
            if key != "returns" {
                return Err(syn::Error::new(
                    key.span(),
                    format!("unknown option: {USAGE}"),
                ));
            }
            if returns.is_some() {
                return Err(syn::Error::new(
                    key.span(),
                    "the option `returns` is given twice",
                ));
            }
            let body;
            syn::braced!(body in input);
            let entries = Punctuated::<ReturnsEntry, Token![,]>::parse_terminated(&body)?;
            returns = Some(
                entries
                    .into_iter()
                    .map(|ReturnsEntry(p, t)| (p, t))
                    .collect(),
            );
        }
        Ok(ApiInput {
            file,
            krate,
            returns: returns.unwrap_or_default(),
        })
    }
}

/// Reads and parses the spec `file` names, relative to `dir` (the crate's directory); also answers the path
/// read, for `include_bytes!`.
fn read_spec(dir: &Path, file: &LitStr) -> syn::Result<(Spec, PathBuf)> {
    let shown = file.value();
    let path = dir.join(&shown);
    let json = std::fs::read_to_string(&path).map_err(|e| {
        // A missing spec is the first thing a new project meets: say how to write one.
        let bootstrap = if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "; write it with `npx convex function-spec > {shown}` (run where `npx convex dev` runs, \
                 against your deployment), or without a deployment from the `convex/` folder with \
                 `convex_fetch_testing::function_spec(\"convex\")` (needs Node.js), and commit it"
            )
        } else {
            String::new()
        };
        syn::Error::new(
            file.span(),
            format!(
                "cannot read the function spec `{shown}` ({}): {e}{bootstrap}",
                path.display()
            ),
        )
    })?;
    let spec = spec::parse(&json)
        .map_err(|why| syn::Error::new(file.span(), format!("`{shown}`: {why}")))?;
    Ok((spec, path))
}

/// What every module's generation shares.
struct Context<'a> {
    krate: &'a TokenStream,
    markers: &'a BTreeMap<String, Ident>,
    returns: &'a Returns,
}

/// A module of the generated tree: the functions of one Convex module, and the modules below it.
#[derive(Default)]
struct Module<'a> {
    functions: Vec<&'a Function>,
    /// By Convex name.
    children: BTreeMap<String, Module<'a>>,
}

impl<'a> Module<'a> {
    fn at(&mut self, path: &[String]) -> &mut Module<'a> {
        let mut module = self;
        for segment in path {
            module = module.children.entry(segment.clone()).or_default();
        }
        module
    }

    /// The module's items; `depth` counts the modules from the call site (1 for `api`), `at` is its Convex
    /// path.
    fn expand(&self, cx: &Context<'_>, depth: usize, at: &str) -> TokenStream {
        let mut types = ModuleTypes::new();
        let mut fns = Scope::default();
        // Every function's names are claimed before any nested type takes one, so that a function keeps its
        // names whatever its neighbours' fields are called.
        let claimed: Vec<(Ident, Ident)> = self
            .functions
            .iter()
            .map(|f| {
                let fn_name = if f.export == "default" {
                    "default_".to_owned()
                } else {
                    names::item(&f.export)
                };
                let fn_name = fns.claim(&names::ident(&fn_name).to_string());
                let args = types
                    .names
                    .claim(&format!("{}Args", names::type_name(&f.export)));
                (parse_ident(&fn_name), ident(&args))
            })
            .collect();
        let up = std::iter::repeat_n(quote!(super::), depth).collect::<TokenStream>();
        let mut stubs = Vec::new();
        for (function, (fn_ident, args_ident)) in self.functions.iter().zip(claimed) {
            let returns = cx
                .returns
                .get(&function.path)
                .map(|(alias, ty)| (quote!(#up #alias), shown_type(&quote!(#ty))));
            let mut ty = Types {
                krate: cx.krate,
                tables: quote!(#up tables),
                markers: cx.markers,
                module: &mut types,
                function: format!("the Convex {} `{}`", function.kind.word(), function.path),
                union_depth: 0,
            };
            stubs.push(stub(function, &fn_ident, &args_ident, &mut ty, returns));
        }
        let defs = types.defs;
        let mut mods = Scope::default();
        let children = self.children.iter().map(|(name, child)| {
            let child_at = if at.is_empty() {
                name.clone()
            } else {
                format!("{at}/{name}")
            };
            let rust = parse_ident(&mods.claim(&names::ident(&names::item(name)).to_string()));
            let body = child.expand(cx, depth + 1, &child_at);
            let doc = if child.functions.is_empty() {
                format!("The Convex modules under `{child_at}/`.")
            } else {
                format!("The functions of the Convex module `{child_at}`.")
            };
            quote!(#[doc = #doc] pub mod #rust { #body })
        });
        let children: Vec<_> = children.collect();
        quote!(#(#defs)* #(#stubs)* #(#children)*)
    }
}

/// An identifier already checked by [`names::ident`], possibly raw, with a suffix.
fn parse_ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) if syn::parse_str::<syn::Ident>(name).is_ok() => {
            Ident::new_raw(raw, Span::call_site())
        }
        _ => ident(name),
    }
}

/// The generated code.
pub(crate) fn generate(spec: &Spec, krate: &TokenStream, returns: &Returns) -> TokenStream {
    let mut tables = BTreeSet::new();
    for f in &spec.functions {
        for field in f.args.iter().flatten() {
            types::tables_of(&field.ty, &mut tables);
        }
        if let Some(v) = &f.returns {
            types::tables_of(v, &mut tables);
        }
    }
    let markers = markers(&tables);
    let cx = Context {
        krate,
        markers: &markers,
        returns,
    };
    let mut functions: Vec<&Function> = spec.functions.iter().collect();
    functions.sort_by(|a, b| a.path.cmp(&b.path));
    let mut roots: BTreeMap<&str, Module<'_>> = BTreeMap::new();
    for function in functions {
        let root = if function.internal { "internal" } else { "api" };
        roots
            .entry(root)
            .or_default()
            .at(&function.modules)
            .functions
            .push(function);
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
        let body = module.expand(&cx, 1, "");
        out.extend(quote!(#[doc = #doc] pub mod #name { #body }));
    }
    if !markers.is_empty() {
        let markers = markers.iter().map(|(table, marker)| {
            let doc = format!("The table `{table}`, for typed ids: `Id<tables::{marker}>`.");
            quote!(#[doc = #doc] #[derive(::core::fmt::Debug)] pub enum #marker {})
        });
        out.extend(quote! {
            /// Marker types of the deployment's tables (generated by `api!`).
            pub mod tables { #(#markers)* }
        });
    }
    if !spec.routes.is_empty() {
        let mut names = Scope::default();
        let mut routes = Vec::new();
        for route in &spec.routes {
            let name = ident(&names.claim(&route_const(&route.method, &route.path)));
            let (method, path) = (&route.method, &route.path);
            let doc = format!("`{method} {path}` on the deployment's site URL.");
            routes.push(quote!(#[doc = #doc] pub const #name: #krate::HttpRoute = #krate::HttpRoute { method: #method, path: #path };));
        }
        out.extend(quote! {
            /// The deployment's HTTP actions, served on its site URL (`https://<name>.convex.site`).
            pub mod http { #(#routes)* }
        });
    }
    out
}

/// The marker type of each table: `posts` → `Posts`, `_scheduled_functions` → `ScheduledFunctions`. The
/// application's tables claim their names before the system tables (`_…`), so a table `scheduled_functions`
/// is `ScheduledFunctions` and `_scheduled_functions` then `ScheduledFunctions2`. `_storage` has none: its ids
/// are `Id<convex::Storage>`, the type file uploads return.
fn markers(tables: &BTreeSet<String>) -> BTreeMap<String, Ident> {
    let mut scope = Scope::types();
    let mut out = BTreeMap::new();
    for system in [false, true] {
        for table in tables
            .iter()
            .filter(|t| t.starts_with('_') == system && *t != types::STORAGE_TABLE)
        {
            out.insert(table.clone(), ident(&scope.claim(&names::type_name(table))));
        }
    }
    out
}

/// One function: its args struct, which is the typed reference, and the function building the call; for a
/// function without an args validator, a call taking any args.
fn stub(
    function: &Function,
    fn_ident: &Ident,
    args_ident: &Ident,
    types: &mut Types<'_>,
    returns: Option<(TokenStream, String)>,
) -> TokenStream {
    let krate = types.krate;
    let private = quote!(#krate::__private);
    let base = names::type_name(&function.export);
    let (output, shown_output) = match (returns, &function.returns) {
        (Some((ty, shown)), _) => (ty, shown),
        (None, returns) => {
            let ty = match returns {
                // `paginate` needs a page, so a paginated query without a returns validator gets one of
                // values.
                None if types::takes_pagination_options(function) => {
                    quote!(#krate::pagination::PaginationResult<#krate::value::Value>)
                }
                None => quote!(#krate::value::Value),
                Some(spec::Validator::Null) => quote!(()),
                Some(v) => types.rust_type(v, &format!("{base}Output"), "returns", Side::Output),
            };
            let shown = shown_type(&ty);
            (ty, shown)
        }
    };
    let resolves_to = format!("The call resolves to `Result<{shown_output}, convex::Error>`.");
    let word = function.kind.word();
    let path = &function.path;
    let mut doc = format!("The Convex {word} `{path}`.");
    if function.internal {
        doc.push_str(" Internal: call it with the admin key.");
    }
    if function.inferred {
        doc.push_str(spec::INFERRED_DOC);
    }
    let Some(fields) = &function.args else {
        let kind = format_ident!("{}", pascal(word));
        let doc = format!(
            "{doc} It declares no args validator, so it takes any serializable args. {resolves_to}"
        );
        return quote! {
            #[doc = #doc]
            pub fn #fn_ident<A: #private::serde::Serialize>(
                args: A,
            ) -> #private::Call<#private::Untyped<A, #output, #private::kind::#kind>> {
                #private::Call::new(#private::Untyped::new(#path, args))
            }
        };
    };
    let rust_names = types::field_names(fields.iter().map(|f| f.name.as_str()));
    let mut struct_fields = Vec::new();
    let mut params = Vec::new();
    let mut names_only = Vec::new();
    for (field, rust) in fields.iter().zip(&rust_names) {
        let field_ident = parse_ident(rust);
        let wire = &field.name;
        let ty = types.rust_type(
            &field.ty,
            &format!("{base}{}", names::pascal_of(wire)),
            &format!("args.{wire}"),
            Side::Args,
        );
        let ty = if field.optional {
            quote!(::core::option::Option<#ty>)
        } else {
            ty
        };
        let doc = types::field_doc(wire, &field.ty, field.optional);
        let skip = field
            .optional
            .then(|| quote!(#[serde(skip_serializing_if = "::core::option::Option::is_none")]));
        struct_fields
            .push(quote!(#[doc = #doc] #[serde(rename = #wire)] #skip pub #field_ident: #ty));
        params.push(quote!(#field_ident: #ty));
        names_only.push(field_ident);
    }
    let serde_path = format!("{krate}::__private::serde").replace(' ', "");
    let default = fields
        .iter()
        .all(|f| f.optional)
        .then(|| quote!(::core::default::Default,));
    let kind = format_ident!("{}", pascal(word));
    let struct_doc = format!(
        "The args of the Convex {word} `{path}`, and its typed reference: pass it to [`{fn_ident}`], \
         `fetch_{word}` or `convex_fetch!`."
    );
    // Two or more args are taken as the struct, by name: the spec lists them alphabetically, and positional
    // parameters of one type could be swapped without an error.
    let (signature, body) = if fields.len() >= 2 {
        (quote!(args: #args_ident), quote!(args))
    } else {
        (
            quote!(#(#params),*),
            quote!(#args_ident { #(#names_only),* }),
        )
    };
    let fn_doc = format!(
        "Calls the Convex {word} `{path}`. Set options (`.auth(token)`, `.on(&client)`, `.timeout(…)`) \
         before `.await`. {resolves_to}"
    );
    quote! {
        #[doc = #struct_doc]
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq, #default #private::serde::Serialize)]
        #[serde(crate = #serde_path)]
        pub struct #args_ident { #(#struct_fields,)* }

        #[automatically_derived]
        impl #private::ConvexFunction for #args_ident {
            const KIND: #private::FunctionKind = #private::FunctionKind::#kind;
            type Output = #output;
            fn path(&self) -> &str {
                #path
            }
        }

        #[automatically_derived]
        impl #private::#kind for #args_ident {}

        #[doc = #doc]
        #[doc = ""]
        #[doc = #fn_doc]
        pub fn #fn_ident(#signature) -> #private::Call<#args_ident> {
            #private::Call::new(#body)
        }
    }
}

/// A type as the docs show it: `Vec<ListOutput>` for `:: std :: vec :: Vec < super :: ListOutput >`. The
/// standard library's paths and `super::` are left out; the crate's own (`convex_fetch::value::Id`) stay.
fn shown_type(ty: &TokenStream) -> String {
    let mut text = ty.to_string();
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" ::", "::"),
        (" < ", "<"),
        ("< ", "<"),
        (" <", "<"),
        (" >", ">"),
        (" ,", ","),
        ("& ", "&"),
        ("( ", "("),
        (" )", ")"),
    ] {
        text = text.replace(from, to);
    }
    for prefix in [
        "::std::vec::",
        "::std::string::",
        "::std::collections::",
        "::core::option::",
        "::core::primitive::",
        "::std::primitive::",
        "std::vec::",
        "std::string::",
        "std::collections::",
        "core::option::",
        "super::",
    ] {
        text = text.replace(prefix, "");
    }
    text.trim_start_matches("::")
        .replace("<::", "<")
        .replace(" ::", " ")
}

/// `POST /webhook` → `POST_WEBHOOK`; a prefix route `/files/*` → `GET_FILES_PREFIX`.
fn route_const(method: &str, path: &str) -> String {
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
    format!("{}_{name}{prefix}", method.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The generated code for the compact spec of the protocol notes, pretty-printed, as a reader would see it.
    /// `UPDATE_SNAPSHOTS=1 cargo test -p convex-fetch-macros` rewrites it after a deliberate change.
    #[test]
    fn generated_code_matches_the_readable_snapshot() {
        for name in ["compact_spec", "shapes_spec"] {
            let json = std::fs::read_to_string(format!(
                "{}/snapshots/{name}.json",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap();
            let spec = spec::parse(&json).unwrap();
            let file: syn::File =
                syn::parse2(generate(&spec, &quote!(::convex), &Returns::new())).unwrap();
            let generated = prettyplease::unparse(&file);
            let snapshot = format!("{}/snapshots/{name}.rs", env!("CARGO_MANIFEST_DIR"));
            if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
                std::fs::write(&snapshot, &generated).unwrap();
            }
            let expected = std::fs::read_to_string(&snapshot).unwrap_or_default();
            assert!(
                generated == expected,
                "the generated code changed; see {snapshot}:\n{generated}"
            );
        }
    }

    /// Writes the code `api!` generates for the spec `API_SPEC` to `API_OUT`, as plain Rust: the hand-written
    /// equivalent that BENCHMARKS.md compares `api!` with.
    #[test]
    #[ignore = "a tool for BENCHMARKS.md: API_SPEC=… API_OUT=… cargo test -p convex-fetch-macros -- --ignored"]
    fn expand_a_spec_to_a_file() {
        let (Some(spec), Some(out)) = (std::env::var_os("API_SPEC"), std::env::var_os("API_OUT"))
        else {
            return;
        };
        let spec = spec::parse(&std::fs::read_to_string(spec).unwrap()).unwrap();
        let file: syn::File =
            syn::parse2(generate(&spec, &quote!(::convex), &Returns::new())).unwrap();
        std::fs::write(out, prettyplease::unparse(&file)).unwrap();
    }

    #[test]
    fn malformed_specs_name_the_json_path() {
        let cases = [
            ("1", "at `$`: expected an object or an array"),
            (r#"{"functions": 1}"#, "expected `functions`"),
            (
                r#"{"status": "success", "value": 1}"#,
                "expected `functions`",
            ),
            (
                r#"{"functions": [{"functionType": "Cron"}]}"#,
                "at `$.functions[0].functionType`: unknown function type `Cron`",
            ),
            (
                r#"[{"functionType": "Cron"}]"#,
                "at `$[0].functionType`: unknown function type `Cron`",
            ),
            (
                r#"{"status": "success", "value": [{"functionType": "Cron"}]}"#,
                "at `$.value[0].functionType`",
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
                r#"{"functions": [{"functionType": "Query", "identifier": "a.js:b", "returns": {"type": "literal", "value": {"$integer": "AQ=="}}}]}"#,
                "at `$.functions[0].returns.value`: `$integer` must hold 8 bytes in base64",
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

    #[test]
    fn every_form_the_tools_print_is_read() {
        let entry =
            r#"{"functionType": "Query", "identifier": "posts.ts:list", "args": {"type": "any"}}"#;
        for json in [
            format!(r#"{{"url": "https://x.convex.cloud", "functions": [{entry}]}}"#),
            format!("[{entry}]"),
            format!(r#"{{"status": "success", "value": [{entry}]}}"#),
            format!(r#"{{"status": "success", "value": {{"functions": [{entry}]}}}}"#),
        ] {
            let spec = spec::parse(&json).unwrap();
            assert_eq!(spec.functions[0].path, "posts:list", "{json}");
        }
    }

    fn generated(functions: &str) -> String {
        let spec = spec::parse(&format!(r#"{{"functions": [{functions}]}}"#)).unwrap();
        let tokens = generate(&spec, &quote!(::convex), &Returns::new());
        prettyplease::unparse(&syn::parse2(tokens).unwrap())
    }

    fn query(identifier: &str, args: &str, returns: &str) -> String {
        format!(
            r#"{{"functionType": "Query", "identifier": "{identifier}", "args": {args}, "returns": {returns}}}"#
        )
    }

    fn object(fields: &[(&str, &str)]) -> String {
        let fields: Vec<String> = fields
            .iter()
            .map(|(name, ty)| format!(r#""{name}": {{"fieldType": {ty}, "optional": false}}"#))
            .collect();
        format!(r#"{{"type": "object", "value": {{{}}}}}"#, fields.join(","))
    }

    #[test]
    fn names_of_every_valid_path_become_rust_names() {
        let empty = object(&[]);
        let code = generated(
            &[
                query("v1.api/2024/feed.js:_1a", &empty, "null"),
                query("_.js:default", &empty, "null"),
                query("2fa/x.js:_", &empty, "null"),
                query(
                    "f.js:g",
                    &object(&[
                        ("2fa", r#"{"type": "string"}"#),
                        ("first name", r#"{"type": "string"}"#),
                        ("_", r#"{"type": "string"}"#),
                    ]),
                    r#"{"type": "id", "tableName": "2fa"}"#,
                ),
            ]
            .join(","),
        );
        for expected in [
            "pub mod v1_api {",
            "pub mod _2024 {",
            "pub mod feed {",
            "pub struct T1aArgs {}",
            "pub fn _1a() -> ::convex::__private::Call<T1aArgs>",
            "\"v1.api/2024/feed:_1a\"",
            "pub mod __ {",
            "pub fn default_() -> ::convex::__private::Call<DefaultArgs>",
            "\"_:default\"",
            "pub mod _2fa {",
            "pub fn __() -> ::convex::__private::Call<TArgs>",
            "#[serde(rename = \"2fa\")]",
            "pub field_2fa: ::std::string::String",
            "#[serde(rename = \"first name\")]",
            "pub first_name: ::std::string::String",
            "#[serde(rename = \"_\")]",
            "pub field: ::std::string::String",
            "pub enum T2fa {}",
        ] {
            assert!(code.contains(expected), "no `{expected}` in:\n{code}");
        }
    }

    /// Odd names everywhere a spec holds free text: fields, tables, literal values, tags. None panics, and
    /// the output parses as Rust.
    #[test]
    fn odd_names_never_panic() {
        let odd = [
            "", "_", "__", "1", "2fa", "é", "a-b", "a b", "Self", "self", "crate", "super", "type",
            "r#x", "$x", "🙂", "_1a", "String", "Default", "V1", "None",
        ];
        let literal = |s: &str| format!(r#"{{"type": "literal", "value": {s:?}}}"#);
        let fields: Vec<(String, String)> = odd
            .iter()
            .map(|name| {
                (
                    (*name).to_owned(),
                    format!(r#"{{"type": "id", "tableName": {name:?}}}"#),
                )
            })
            .collect();
        let fields: Vec<(&str, &str)> = fields
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let literals: Vec<String> = odd.iter().map(|s| literal(s)).collect();
        let tagged: Vec<String> = odd
            .iter()
            .map(|s| object(&[("kind", &literal(s)), ("x", r#"{"type": "number"}"#)]))
            .collect();
        let code = generated(
            &[
                query(
                    "a.js:f",
                    &object(&fields),
                    &format!(r#"{{"type": "union", "value": [{}]}}"#, literals.join(",")),
                ),
                query(
                    "a.js:g",
                    &object(&[]),
                    &format!(r#"{{"type": "union", "value": [{}]}}"#, tagged.join(",")),
                ),
            ]
            .join(","),
        );
        for expected in [
            "pub enum Self2 {}",
            "pub enum Default2 {}",
            "Empty(GOutputEmpty)",
            "rename = \"$x\"",
        ] {
            assert!(code.contains(expected), "no `{expected}` in:\n{code}");
        }
    }

    #[test]
    fn names_that_would_clash_take_documented_suffixes() {
        let any = r#"{"type": "any"}"#;
        let code = generated(&[
            query("v1.api/a.js:x", any, "null"),
            query("v1_api/b.js:y", any, "null"),
            query("posts.js:listAll", any, "null"),
            query("posts.js:list_all", any, "null"),
            query(
                "chat.js:send",
                &object(&[("message", &object(&[("body", r#"{"type": "string"}"#)]))]),
                "null",
            ),
            query("chat.js:sendMessage", &object(&[]), "null"),
            query(
                "u.js:f",
                &object(&[
                    ("userId", r#"{"type": "string"}"#),
                    ("user_id", r#"{"type": "number"}"#),
                    ("_id", r#"{"type": "string"}"#),
                    ("id", r#"{"type": "number"}"#),
                    ("file", r#"{"type": "id", "tableName": "_storage"}"#),
                ]),
                r#"{"type": "union", "value": [{"type": "id", "tableName": "_scheduled_functions"}, {"type": "id", "tableName": "scheduled_functions"}, {"type": "id", "tableName": "_storage"}]}"#,
            ),
            query("s.js:string", &object(&[]), "null"),
        ]
        .join(","));
        for expected in [
            "pub mod v1_api {",
            "pub mod v1_api_2 {",
            "pub fn list_all<",
            "pub fn list_all_2<",
            "pub struct SendMessageArgs {}",
            "pub struct SendMessage {",
            "pub user_id: f64",
            "pub user_id_2: ::std::string::String",
            "pub id: f64",
            "pub id_2: ::std::string::String",
            "pub enum ScheduledFunctions {}",
            "pub enum ScheduledFunctions2 {}",
            // Stored files are the runtime's, the type `Client::upload` returns.
            "pub file: ::convex::value::Id<::convex::Storage>",
            "pub struct StringArgs {}",
        ] {
            assert!(code.contains(expected), "no `{expected}` in:\n{code}");
        }
        assert!(!code.contains("struct Default ") && !code.contains("struct String "));
    }

    fn returning(members: &str) -> String {
        generated(&query(
            "u.js:f",
            &object(&[]),
            &format!(r#"{{"type": "union", "value": [{members}]}}"#),
        ))
    }

    #[test]
    fn unions_are_decoded_by_the_values_convex_type() {
        let code = returning(r#"{"type": "number"}, {"type": "bigint"}"#);
        assert!(
            code.contains("Number(f64)") && code.contains("Int64(i64)"),
            "{code}"
        );
        assert!(code.contains("::convex::value::Value::Int64(..)"), "{code}");
        // An id beside a string is merged into it, explicitly.
        let code = returning(r#"{"type": "string"}, {"type": "id", "tableName": "posts"}"#);
        assert!(
            code.contains("which also holds the ids of `posts`"),
            "{code}"
        );
        assert!(!code.contains("Id(::convex::value::Id"), "{code}");
        let code = returning(r#"{"type": "number"}, {"type": "id", "tableName": "posts"}"#);
        assert!(
            code.contains("Id(::convex::value::Id<super::super::tables::Posts>)"),
            "{code}"
        );
        // Literals stay checked: compared exactly.
        let code = returning(
            r#"{"type": "literal", "value": 1}, {"type": "literal", "value": 2.5}, {"type": "literal", "value": {"$integer": "AQAAAAAAAAA="}}, {"type": "literal", "value": true}"#,
        );
        for expected in [
            "V1,",
            "V2p5,",
            "V1_2,",
            "True,",
            "__value.as_i64() == ::core::option::Option::Some(1i64)",
        ] {
            assert!(code.contains(expected), "no `{expected}` in:\n{code}");
        }
        // `v.nullable(v.any())` is an optional value; a union with `any` is a value.
        let code = returning(r#"{"type": "null"}, {"type": "any"}"#);
        assert!(
            code.contains("type Output = ::core::option::Option<::convex::value::Value>;"),
            "{code}"
        );
        let code = returning(r#"{"type": "string"}, {"type": "any"}"#);
        assert!(
            code.contains("type Output = ::convex::value::Value;"),
            "{code}"
        );
    }

    #[test]
    fn objects_sharing_a_literal_field_are_one_enum_by_that_tag() {
        let member = |tag: &str, extra: &str| {
            object(&[
                (
                    "type",
                    &format!(r#"{{"type": "literal", "value": "{tag}"}}"#),
                ),
                ("kind", r#"{"type": "string"}"#),
                (extra, r#"{"type": "number"}"#),
            ])
        };
        let code = returning(
            &[
                member("signIn", "a"),
                member("signOut", "b"),
                member("refresh-session", "c"),
            ]
            .join(","),
        );
        for expected in [
            "#[serde(tag = \"type\")]",
            "SignIn(FOutputSignIn)",
            "SignOut(FOutputSignOut)",
            "RefreshSession(FOutputRefreshSession)",
            "::core::option::Option::Some(\"signIn\") =>",
        ] {
            assert!(code.contains(expected), "no `{expected}` in:\n{code}");
        }
        assert!(!code.contains("Object2"), "{code}");
    }

    #[test]
    fn identical_subtrees_share_a_type_and_deep_unions_are_values() {
        let point = object(&[
            ("x", r#"{"type": "number"}"#),
            ("y", r#"{"type": "number"}"#),
        ]);
        let code = generated(&query(
            "g.js:f",
            &object(&[("a", &point), ("b", &point)]),
            &format!(r#"{{"type": "array", "value": {point}}}"#),
        ));
        assert_eq!(
            code.matches("pub x: f64").count(),
            2,
            "one for the args, one for the output:\n{code}"
        );
        // A union in a union in a union in a union: the innermost is past the depth.
        let mut v = r#"{"type": "string"}"#.to_owned();
        for _ in 0..=MAX_DEPTH_FOR_TESTS {
            v = format!(
                r#"{{"type": "union", "value": [{{"type": "number"}}, {{"type": "array", "value": {v}}}]}}"#
            );
        }
        let code = generated(&query("g.js:h", &object(&[]), &v));
        assert_eq!(
            code.matches("pub enum").count(),
            MAX_DEPTH_FOR_TESTS,
            "{code}"
        );
        assert!(
            code.contains("Array(::std::vec::Vec<::convex::value::Value>)"),
            "{code}"
        );
    }

    const MAX_DEPTH_FOR_TESTS: usize = types::MAX_UNION_DEPTH;

    /// A JSON-like payload validator as a real app declares it (scalars, arrays and records of the level
    /// below, six levels deep), in six objects of one union: the generated code stays small.
    #[test]
    fn a_recursive_json_like_validator_stays_small() {
        let scalar = r#"{"type": "union", "value": [{"type": "null"}, {"type": "boolean"}, {"type": "number"}, {"type": "string"}]}"#;
        let mut json = scalar.to_owned();
        for _ in 0..6 {
            json = format!(
                r#"{{"type": "union", "value": [{scalar}, {{"type": "array", "value": {json}}}, {{"type": "record", "keys": {{"type": "string"}}, "values": {{"fieldType": {json}, "optional": false}}}}]}}"#
            );
        }
        let members: Vec<String> = (0..6)
            .map(|i| {
                object(&[
                    (
                        "kind",
                        &format!(r#"{{"type": "literal", "value": "k{i}"}}"#),
                    ),
                    ("data", &json),
                ])
            })
            .collect();
        let code = returning(&members.join(","));
        let types = code.matches("pub enum").count() + code.matches("pub struct").count();
        assert!(types <= 16, "{types} types");
        assert!(
            code.lines().count() < 2_000,
            "{} lines",
            code.lines().count()
        );
        let longest = code
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .map(str::len)
            .max()
            .unwrap_or(0);
        assert!(
            longest <= names::MAX_TYPE_NAME + 4,
            "a name of {longest} characters"
        );
    }

    #[test]
    fn pagination_shapes_are_the_runtimes_types() {
        let opts = object(&[
            ("numItems", r#"{"type": "number"}"#),
            (
                "cursor",
                r#"{"type": "union", "value": [{"type": "string"}, {"type": "null"}]}"#,
            ),
        ]);
        let result = object(&[
            ("page", r#"{"type": "array", "value": {"type": "string"}}"#),
            ("isDone", r#"{"type": "boolean"}"#),
            ("continueCursor", r#"{"type": "string"}"#),
        ]);
        let code = generated(&query(
            "m.js:list",
            &object(&[("paginationOpts", &opts)]),
            &result,
        ));
        assert!(
            code.contains("pub pagination_opts: ::convex::pagination::PaginationOptions"),
            "{code}"
        );
        assert!(
            code.contains(
                "type Output = ::convex::pagination::PaginationResult<::std::string::String>;"
            ),
            "{code}"
        );
    }

    #[test]
    fn two_or_more_args_are_taken_by_name() {
        let code = generated(&query(
            "m.js:f",
            &object(&[
                ("a", r#"{"type": "string"}"#),
                ("b", r#"{"type": "string"}"#),
            ]),
            "null",
        ));
        assert!(
            code.contains("pub fn f(args: FArgs) -> ::convex::__private::Call<FArgs>"),
            "{code}"
        );
        let code = generated(&query(
            "m.js:f",
            &object(&[("a", r#"{"type": "string"}"#)]),
            "null",
        ));
        assert!(
            code.contains("pub fn f(a: ::std::string::String)"),
            "{code}"
        );
    }

    #[test]
    fn unknown_validator_types_are_values() {
        let code = generated(&query(
            "m.js:f",
            &object(&[("a", r#"{"type": "float32"}"#)]),
            "null",
        ));
        assert!(code.contains("pub a: ::convex::value::Value"), "{code}");
        assert!(code.contains("the validator type `float32`"), "{code}");
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
        // It says how to write one.
        assert!(
            missing
                .to_string()
                .contains("`npx convex function-spec > specs/no_such_spec.json`"),
            "{missing}"
        );
        assert!(
            missing
                .to_string()
                .contains("convex_fetch_testing::function_spec"),
            "{missing}"
        );

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
    fn output_types_are_shown_as_written() {
        let cases = [
            (
                quote!(::std::vec::Vec<super::ListOutput>),
                "Vec<ListOutput>",
            ),
            (
                quote!(
                    ::core::option::Option<::convex_fetch::value::Id<super::super::tables::Posts>>
                ),
                "Option<convex_fetch::value::Id<tables::Posts>>",
            ),
            (quote!(()), "()"),
            (
                quote!(::std::collections::BTreeMap<::std::string::String, f64>),
                "BTreeMap<String, f64>",
            ),
            (quote!(Vec<Post>), "Vec<Post>"),
        ];
        for (ty, shown) in cases {
            assert_eq!(shown_type(&ty), shown);
        }
    }

    /// A paginated query whose result is neither declared nor inferred still returns a page, of values.
    #[test]
    fn an_unknown_paginated_result_is_a_page_of_values() {
        let json = r#"[{"functionType": "Query", "identifier": "messages.js:list",
            "visibility": {"kind": "public"}, "returns": null,
            "args": {"type": "object", "value": {"paginationOpts": {"optional": false, "fieldType":
              {"type": "object", "value": {"numItems": {"fieldType": {"type": "number"}, "optional": false},
                "cursor": {"fieldType": {"type": "union", "value": [{"type": "string"}, {"type": "null"}]},
                  "optional": false}}}}}}}]"#;
        let spec = spec::parse(json).unwrap();
        let out = generate(&spec, &quote!(::convex), &Returns::new()).to_string();
        assert!(
            out.contains(
                ":: convex :: pagination :: PaginationResult < :: convex :: value :: Value >"
            ),
            "{out}"
        );
    }

    #[test]
    fn the_input_is_a_file_then_the_crate_and_the_outputs() {
        let input: ApiInput = syn::parse2(quote!(
            "spec.json", crate = "::my::convex", returns { "posts:list" => Vec<Post>, "a.js:b" => u8 },
        ))
        .unwrap();
        assert_eq!(input.file.value(), "spec.json");
        let krate = input.krate.unwrap();
        assert_eq!(quote!(#krate).to_string(), quote!(::my::convex).to_string());
        assert_eq!(input.returns.len(), 2);
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
            (
                quote!("spec.json", returns { list => u8 }),
                "expected a function path",
            ),
            (quote!("spec.json", returns {}, returns {}), "given twice"),
        ] {
            let err = syn::parse2::<ApiInput>(input).err().unwrap();
            assert!(err.to_string().contains(expected), "{err}");
        }
    }

    #[test]
    fn outputs_name_functions_of_the_spec() {
        let spec = spec::parse(&format!(
            r#"{{"functions": [{}]}}"#,
            query("posts.js:list", &object(&[]), "null")
        ))
        .unwrap();
        let check = |input: TokenStream| check_returns(&spec, &syn::parse2(input).unwrap());
        assert!(check(quote!("s.json", returns { "posts:list" => u8 })).is_ok());
        assert!(check(quote!("s.json", returns { "posts.ts:list" => u8 })).is_ok());
        for (input, expected) in [
            (
                quote!("s.json", returns { "posts:nope" => u8 }),
                "the spec `s.json` has no function `posts:nope`",
            ),
            (
                quote!("s.json", returns { "posts:list" => u8, "posts.js:list" => u8 }),
                "given twice",
            ),
            (
                quote!("s.json", returns { "a::b" => u8 }),
                "not a function path",
            ),
        ] {
            let err = check(input).err().unwrap();
            assert!(err.to_string().contains(expected), "{err}");
        }
    }
}
