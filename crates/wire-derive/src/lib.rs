//! `#[derive(FromWire, ToWire)]`: a wire type's reading from and writing to the small JSON tree
//! of `confab_protocol::wire`, generated from the type and the serde attributes it already
//! carries, so that the type is defined once and both codecs follow the same names and rules.
//!
//! Understood, with serde's meaning: on containers `rename_all = "snake_case"` (unit enums) and
//! `transparent` (newtypes); on fields `rename`, `default`, `skip_serializing_if` and `flatten`.
//! Any other serde attribute is a compile error here, so a wire type cannot silently mean one
//! thing to serde and another to the widget. Enums with data are written by hand.
//!
//! The generated code is not generic beyond the type itself: each field is one call to a
//! helper in `confab_protocol::wire` (which does the looking up and the error text).

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, Path, parse_macro_input};

#[proc_macro_derive(FromWire, attributes(serde))]
pub fn derive_from_wire(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input, Direction::From).unwrap_or_else(syn::Error::into_compile_error).into()
}

#[proc_macro_derive(ToWire, attributes(serde))]
pub fn derive_to_wire(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input, Direction::To).unwrap_or_else(syn::Error::into_compile_error).into()
}

#[derive(Clone, Copy, PartialEq)]
enum Direction {
    From,
    To,
}

/// What the serde attributes on one item say.
#[derive(Default)]
struct Serde {
    rename: Option<String>,
    rename_all_snake: bool,
    transparent: bool,
    default: bool,
    flatten: bool,
    skip_serializing_if: Option<Path>,
    untagged: bool,
}

fn serde_attrs(attrs: &[syn::Attribute]) -> syn::Result<Serde> {
    let mut serde = Serde::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                serde.rename = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if meta.path.is_ident("rename_all") {
                let rule = meta.value()?.parse::<LitStr>()?;
                if rule.value() != "snake_case" {
                    return Err(syn::Error::new_spanned(rule, "only rename_all = \"snake_case\" is understood"));
                }
                serde.rename_all_snake = true;
            } else if meta.path.is_ident("transparent") {
                serde.transparent = true;
            } else if meta.path.is_ident("default") {
                serde.default = true;
            } else if meta.path.is_ident("flatten") {
                serde.flatten = true;
            } else if meta.path.is_ident("skip_serializing_if") {
                serde.skip_serializing_if = Some(meta.value()?.parse::<LitStr>()?.parse()?);
            } else if meta.path.is_ident("untagged") {
                serde.untagged = true;
            } else if meta.path.is_ident("bound") {
                // serde's own bounds; the derive adds its trait to every type parameter.
                let _ = meta.input.parse::<proc_macro2::Group>()?;
            } else {
                return Err(
                    meta.error("this serde attribute has no meaning for FromWire/ToWire: write the impls by hand")
                );
            }
            Ok(())
        })?;
    }
    Ok(serde)
}

/// serde's `snake_case` for a variant name: `UsersLimitReached` → `users_limit_reached`.
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn expand(input: &DeriveInput, direction: Direction) -> syn::Result<Tokens> {
    let name = &input.ident;
    let container = serde_attrs(&input.attrs)?;
    let mut generics = input.generics.clone();
    let bound: Path = match direction {
        Direction::From => syn::parse_quote!(::confab_protocol::wire::FromWire),
        Direction::To => syn::parse_quote!(::confab_protocol::wire::ToWire),
    };
    for param in generics.type_params_mut() {
        param.bounds.push(syn::TypeParamBound::Trait(syn::TraitBound {
            paren_token: None,
            modifier: syn::TraitBoundModifier::None,
            lifetimes: None,
            path: bound.clone(),
        }));
    }
    let (impl_generics, type_generics, where_clause) = generics.split_for_impl();
    let type_name = name.to_string();

    let body = match &input.data {
        Data::Struct(data) if container.transparent => {
            let Fields::Unnamed(fields) = &data.fields else {
                return Err(syn::Error::new_spanned(name, "transparent: a newtype struct"));
            };
            if fields.unnamed.len() != 1 {
                return Err(syn::Error::new_spanned(name, "transparent: exactly one field"));
            }
            match direction {
                Direction::From => quote!(::confab_protocol::wire::FromWire::from_wire(json).map(Self)),
                Direction::To => quote!(::confab_protocol::wire::ToWire::to_wire(&self.0)),
            }
        }
        Data::Struct(data) => {
            let Fields::Named(fields) = &data.fields else {
                return Err(syn::Error::new_spanned(
                    name,
                    "FromWire/ToWire: a struct with named fields, or transparent",
                ));
            };
            let mut reads = Vec::new();
            let mut writes = Vec::new();
            let mut own_keys = Vec::new();
            for field in &fields.named {
                let ident = field.ident.as_ref().expect("named");
                let serde = serde_attrs(&field.attrs)?;
                let key = serde.rename.clone().unwrap_or_else(|| ident.to_string().trim_start_matches("r#").to_owned());
                if !serde.flatten {
                    own_keys.push(key.clone());
                }
                if serde.flatten {
                    // As serde: the members the struct's own fields do not take.
                    reads.push(quote!(#ident: ::confab_protocol::wire::FromWire::from_wire(
                        &::confab_protocol::wire::rest(members, OWN_KEYS))?));
                    writes.push(quote!(::confab_protocol::wire::flatten_into(&mut members, &self.#ident);));
                    continue;
                }
                reads.push(if serde.default {
                    quote!(#ident: ::confab_protocol::wire::field_or_default(members, #key, #type_name)?)
                } else {
                    quote!(#ident: ::confab_protocol::wire::field(members, #key, #type_name)?)
                });
                let write =
                    quote!(members.push((#key.into(), ::confab_protocol::wire::ToWire::to_wire(&self.#ident))););
                writes.push(match &serde.skip_serializing_if {
                    Some(skip) => quote!(if !#skip(&self.#ident) { #write }),
                    None => write,
                });
            }
            let own_keys = &own_keys;
            match direction {
                Direction::From => quote! {
                    let members = ::confab_protocol::wire::members(json, #type_name)?;
                    #[allow(dead_code)]
                    const OWN_KEYS: &[&str] = &[#(#own_keys),*];
                    Ok(Self { #(#reads,)* })
                },
                Direction::To => quote! {
                    let mut members = ::std::vec::Vec::new();
                    #(#writes)*
                    ::confab_protocol::wire::Json::Object(members)
                },
            }
        }
        // `#[serde(untagged)]` on the enum, every variant a newtype: the first that reads wins.
        Data::Enum(data) if container.untagged => {
            let mut idents = Vec::new();
            for variant in &data.variants {
                if !matches!(&variant.fields, Fields::Unnamed(f) if f.unnamed.len() == 1) {
                    return Err(syn::Error::new_spanned(variant, "untagged: newtype variants only"));
                }
                idents.push(&variant.ident);
            }
            match direction {
                Direction::From => quote! {
                    #( if let Ok(value) = ::confab_protocol::wire::FromWire::from_wire(json) { return Ok(Self::#idents(value)); } )*
                    Err(::confab_protocol::wire::WireError::unknown_variant(#type_name, "(no variant reads this value)"))
                },
                Direction::To => quote! {
                    match self { #( Self::#idents(value) => ::confab_protocol::wire::ToWire::to_wire(value), )* }
                },
            }
        }
        Data::Enum(data) => {
            let mut variants: Vec<(&Ident, String)> = Vec::new();
            // A last `#[serde(untagged)] Other(String)` keeps a name this enum does not know.
            let mut other: Option<&Ident> = None;
            for variant in &data.variants {
                let serde = serde_attrs(&variant.attrs)?;
                if serde.untagged && matches!(&variant.fields, Fields::Unnamed(f) if f.unnamed.len() == 1) {
                    other = Some(&variant.ident);
                    continue;
                }
                if !matches!(variant.fields, Fields::Unit) {
                    return Err(syn::Error::new_spanned(
                        variant,
                        "FromWire/ToWire: unit variants only; write enums with data by hand",
                    ));
                }
                let ident = variant.ident.to_string();
                let wire =
                    serde.rename.unwrap_or_else(|| if container.rename_all_snake { snake_case(&ident) } else { ident });
                variants.push((&variant.ident, wire));
            }
            let idents: Vec<_> = variants.iter().map(|(i, _)| *i).collect();
            let wires: Vec<_> = variants.iter().map(|(_, w)| w).collect();
            let (unknown, write_other) = match other {
                Some(other) => {
                    (quote!(name => Ok(Self::#other(name.into()))), quote!(Self::#other(name) => name.as_str(),))
                }
                None => (
                    quote!(name => Err(::confab_protocol::wire::WireError::unknown_variant(#type_name, name))),
                    quote!(),
                ),
            };
            match direction {
                Direction::From => quote! {
                    match ::confab_protocol::wire::text(json, #type_name)? {
                        #( #wires => Ok(Self::#idents), )*
                        #unknown,
                    }
                },
                Direction::To => quote! {
                    ::confab_protocol::wire::Json::Str(match self { #( Self::#idents => #wires, )* #write_other }.into())
                },
            }
        }
        Data::Union(_) => return Err(syn::Error::new_spanned(name, "FromWire/ToWire: not for unions")),
    };

    Ok(match direction {
        Direction::From => quote! {
            impl #impl_generics ::confab_protocol::wire::FromWire for #name #type_generics #where_clause {
                fn from_wire(json: &::confab_protocol::wire::Json) -> ::std::result::Result<Self, ::confab_protocol::wire::WireError> {
                    #body
                }
            }
        },
        Direction::To => quote! {
            impl #impl_generics ::confab_protocol::wire::ToWire for #name #type_generics #where_clause {
                fn to_wire(&self) -> ::confab_protocol::wire::Json {
                    #body
                }
            }
        },
    })
}
