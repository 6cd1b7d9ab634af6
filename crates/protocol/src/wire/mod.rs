//! The widget's JSON codec, beside serde: a small parser and writer over one [`Json`] tree.
//!
//! serde's derived code is generic and stamped out per type: in the widget's WebAssembly it is
//! the largest single cost (issue 9). This module is the wire types' second codec: one
//! non-generic parser and writer, and each type's reading and writing ([`FromWire`],
//! [`ToWire`]) derived by `confab-wire-derive` from the same definition and serde attributes
//! the server's serde code comes from (tagged enums with an `Unknown` fallback are written by
//! hand beside their serde impls). The two codecs cannot drift: `tests/wire_json.rs` checks
//! the tree against serde_json on arbitrary values, and every documented and recorded payload
//! must read as the same value through both and write back as the same JSON
//! (`tests/documented_examples.rs`, `tests/recorded_frames.rs`).

mod codec;
pub mod json;

pub use codec::{FromWire, ToWire, WireError, field, field_or_default, flatten_into, members, rest, tag, tagged, text};
pub use confab_wire_derive::{FromWire, ToWire};
pub use json::{Json, MAX_DEPTH, SyntaxError};
