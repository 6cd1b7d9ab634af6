//! How wire types read themselves from a [`Json`] tree and write themselves into one:
//! [`FromWire`] and [`ToWire`], derived from each type's definition and serde attributes by
//! `confab-wire-derive`, and the few helpers the derived code calls.
//!
//! The rules are serde's, so that both codecs agree: members are found by name and unknown ones
//! ignored; a missing `Option` is `None`, a missing `#[serde(default)]` member its default, any
//! other missing member an error; `null` is only an `Option`'s `None`.

use super::Json;
use std::collections::BTreeMap;

/// Why a tree is not the value it should be: where and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WireError(pub String);

impl WireError {
    fn expected(what: &str, owner: &str, found: &Json) -> Self {
        let found = match found {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Int(_) | Json::Float(_) => "a number",
            Json::Str(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        };
        Self(format!("{owner}: expected {what}, found {found}"))
    }

    pub fn missing(owner: &str, key: &str) -> Self {
        Self(format!("{owner}: missing field `{key}`"))
    }

    pub fn unknown_variant(owner: &str, found: &str) -> Self {
        Self(format!("{owner}: unknown variant `{found}`"))
    }

    /// This error, said of member `key` of `owner`.
    fn within(self, owner: &str, key: &str) -> Self {
        Self(format!("{owner}.{key}: {}", self.0))
    }
}

/// A type read from the tree.
pub trait FromWire: Sized {
    fn from_wire(json: &Json) -> Result<Self, WireError>;

    /// The value of a member that is not there at all: `None` for an `Option`, else no value
    /// (the member is required).
    fn absent() -> Option<Self> {
        None
    }
}

/// A type written into the tree.
pub trait ToWire {
    fn to_wire(&self) -> Json;
}

/// The members of an object (for the derived code).
pub fn members<'a>(json: &'a Json, owner: &str) -> Result<&'a [(String, Json)], WireError> {
    match json {
        Json::Object(members) => Ok(members),
        other => Err(WireError::expected("an object", owner, other)),
    }
}

/// The text of a string (for the derived code of unit enums).
pub fn text<'a>(json: &'a Json, owner: &str) -> Result<&'a str, WireError> {
    json.as_str().ok_or_else(|| WireError::expected("a string", owner, json))
}

/// Member `key`: read if there, else the type's absent value (an error for required members).
pub fn field<T: FromWire>(members: &[(String, Json)], key: &str, owner: &str) -> Result<T, WireError> {
    match members.iter().find(|(k, _)| k == key) {
        Some((_, value)) => T::from_wire(value).map_err(|e| e.within(owner, key)),
        None => T::absent().ok_or_else(|| WireError::missing(owner, key)),
    }
}

/// Member `key` of a `#[serde(default)]` field: read if there, else the default.
pub fn field_or_default<T: FromWire + Default>(
    members: &[(String, Json)],
    key: &str,
    owner: &str,
) -> Result<T, WireError> {
    match members.iter().find(|(k, _)| k == key) {
        Some((_, value)) => T::from_wire(value).map_err(|e| e.within(owner, key)),
        None => Ok(T::default()),
    }
}

/// The members not named in `taken`, as an object: what a `#[serde(flatten)]` field reads.
pub fn rest(members: &[(String, Json)], taken: &[&str]) -> Json {
    Json::Object(members.iter().filter(|(k, _)| !taken.contains(&k.as_str())).cloned().collect())
}

/// The `type` of a tagged object (users, events).
pub fn tag<'a>(json: &'a Json, owner: &str) -> Result<&'a str, WireError> {
    let members = members(json, owner)?;
    match members.iter().find(|(k, _)| k == "type") {
        Some((_, value)) => text(value, owner),
        None => Err(WireError::missing(owner, "type")),
    }
}

/// `value`'s object with `"type": tag` first, as serde writes an internally tagged variant.
pub fn tagged(tag: &str, value: &impl ToWire) -> Json {
    let mut members = vec![("type".to_owned(), Json::Str(tag.to_owned()))];
    flatten_into(&mut members, value);
    Json::Object(members)
}

/// A `#[serde(flatten)]` field's members, added to the object being written.
pub fn flatten_into(members: &mut Vec<(String, Json)>, value: &impl ToWire) {
    if let Json::Object(more) = value.to_wire() {
        members.extend(more);
    }
}

impl FromWire for Json {
    fn from_wire(json: &Json) -> Result<Self, WireError> {
        Ok(json.clone())
    }
}

impl ToWire for Json {
    fn to_wire(&self) -> Json {
        self.clone()
    }
}

impl FromWire for String {
    fn from_wire(json: &Json) -> Result<Self, WireError> {
        text(json, "string").map(str::to_owned)
    }
}

impl ToWire for String {
    fn to_wire(&self) -> Json {
        Json::Str(self.clone())
    }
}

impl ToWire for str {
    fn to_wire(&self) -> Json {
        Json::Str(self.to_owned())
    }
}

impl FromWire for bool {
    fn from_wire(json: &Json) -> Result<Self, WireError> {
        match json {
            Json::Bool(b) => Ok(*b),
            other => Err(WireError::expected("a boolean", "bool", other)),
        }
    }
}

impl ToWire for bool {
    fn to_wire(&self) -> Json {
        Json::Bool(*self)
    }
}

/// Whole numbers: exactly an integer in the type's range (a `1.0` is not a `u32`, as in serde).
macro_rules! integers {
    ($($t:ty),*) => {$(
        impl FromWire for $t {
            fn from_wire(json: &Json) -> Result<Self, WireError> {
                match json {
                    Json::Int(n) => <$t>::try_from(*n)
                        .map_err(|_| WireError(format!("{}: {n} is out of range", stringify!($t)))),
                    other => Err(WireError::expected("an integer", stringify!($t), other)),
                }
            }
        }

        impl ToWire for $t {
            fn to_wire(&self) -> Json {
                // Every value of these types fits an i64 but u64's top half, which no wire
                // value reaches (counts, sequence numbers); written as a number all the same.
                i64::try_from(*self).map_or(Json::Float(*self as f64), Json::Int)
            }
        }
    )*};
}

integers!(u8, u16, u32, u64, i32, i64, usize);

impl FromWire for f64 {
    fn from_wire(json: &Json) -> Result<Self, WireError> {
        match json {
            Json::Int(n) => Ok(*n as f64),
            Json::Float(f) => Ok(*f),
            other => Err(WireError::expected("a number", "f64", other)),
        }
    }
}

impl ToWire for f64 {
    fn to_wire(&self) -> Json {
        Json::Float(*self)
    }
}

impl<T: FromWire> FromWire for Option<T> {
    fn from_wire(json: &Json) -> Result<Self, WireError> {
        match json {
            Json::Null => Ok(None),
            value => T::from_wire(value).map(Some),
        }
    }

    fn absent() -> Option<Self> {
        Some(None)
    }
}

impl<T: ToWire> ToWire for Option<T> {
    fn to_wire(&self) -> Json {
        self.as_ref().map_or(Json::Null, ToWire::to_wire)
    }
}

impl<T: FromWire> FromWire for Vec<T> {
    fn from_wire(json: &Json) -> Result<Self, WireError> {
        match json {
            Json::Array(items) => items.iter().map(T::from_wire).collect(),
            other => Err(WireError::expected("an array", "list", other)),
        }
    }
}

impl<T: ToWire> ToWire for Vec<T> {
    fn to_wire(&self) -> Json {
        Json::Array(self.iter().map(ToWire::to_wire).collect())
    }
}

impl<T: FromWire> FromWire for Box<T> {
    fn from_wire(json: &Json) -> Result<Self, WireError> {
        T::from_wire(json).map(Box::new)
    }
}

impl<T: ToWire + ?Sized> ToWire for Box<T> {
    fn to_wire(&self) -> Json {
        (**self).to_wire()
    }
}

impl<T: FromWire> FromWire for BTreeMap<String, T> {
    fn from_wire(json: &Json) -> Result<Self, WireError> {
        members(json, "map")?
            .iter()
            .map(|(k, v)| Ok((k.clone(), T::from_wire(v).map_err(|e| e.within("map", k))?)))
            .collect()
    }
}

impl<T: ToWire> ToWire for BTreeMap<String, T> {
    fn to_wire(&self) -> Json {
        Json::Object(self.iter().map(|(k, v)| (k.clone(), v.to_wire())).collect())
    }
}

/// Maps keyed by a number (`groups_status`): JSON keys are text, the number written out.
impl<T: FromWire> FromWire for BTreeMap<u32, T> {
    fn from_wire(json: &Json) -> Result<Self, WireError> {
        members(json, "map")?
            .iter()
            .map(|(k, v)| {
                let key = k.parse().map_err(|_| WireError(format!("map: key `{k}` is not a number")))?;
                Ok((key, T::from_wire(v).map_err(|e| e.within("map", k))?))
            })
            .collect()
    }
}

impl<T: ToWire> ToWire for BTreeMap<u32, T> {
    fn to_wire(&self) -> Json {
        Json::Object(self.iter().map(|(k, v)| (k.to_string(), v.to_wire())).collect())
    }
}

// Free-form JSON in the wire types is serde_json's `Value` today; these let the derived code
// read and write it until those fields hold a `Json` of their own.
impl FromWire for serde_json::Value {
    fn from_wire(json: &Json) -> Result<Self, WireError> {
        Ok(match json {
            Json::Null => serde_json::Value::Null,
            Json::Bool(b) => serde_json::Value::Bool(*b),
            Json::Int(n) => serde_json::Value::from(*n),
            Json::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, serde_json::Value::Number)
            }
            Json::Str(s) => serde_json::Value::String(s.clone()),
            Json::Array(items) => {
                serde_json::Value::Array(items.iter().map(Self::from_wire).collect::<Result<_, _>>()?)
            }
            Json::Object(_) => serde_json::Value::Object(FromWire::from_wire(json)?),
        })
    }
}

impl ToWire for serde_json::Value {
    fn to_wire(&self) -> Json {
        match self {
            serde_json::Value::Null => Json::Null,
            serde_json::Value::Bool(b) => Json::Bool(*b),
            serde_json::Value::Number(n) => {
                n.as_i64().map_or_else(|| Json::Float(n.as_f64().unwrap_or(0.0)), Json::Int)
            }
            serde_json::Value::String(s) => Json::Str(s.clone()),
            serde_json::Value::Array(items) => Json::Array(items.iter().map(ToWire::to_wire).collect()),
            serde_json::Value::Object(map) => map.to_wire(),
        }
    }
}

impl FromWire for serde_json::Map<String, serde_json::Value> {
    fn from_wire(json: &Json) -> Result<Self, WireError> {
        members(json, "map")?.iter().map(|(k, v)| Ok((k.clone(), serde_json::Value::from_wire(v)?))).collect()
    }
}

impl ToWire for serde_json::Map<String, serde_json::Value> {
    fn to_wire(&self) -> Json {
        Json::Object(self.iter().map(|(k, v)| (k.clone(), v.to_wire())).collect())
    }
}
