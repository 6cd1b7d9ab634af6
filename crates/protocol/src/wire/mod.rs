//! The widget's JSON codec, beside serde: a small parser and writer over one [`Json`] tree.
//!
//! serde's derived code is generic and stamped out per type: in the widget's WebAssembly it is
//! the largest single cost (issue 9). This module is the other decoder the wire types will have:
//! one non-generic parser and writer, with each type's reading and writing generated from the
//! same definitions (and serde attributes) the server's serde code comes from. Both must accept
//! and produce the same JSON: `tests/wire_json.rs` checks the tree against serde_json on
//! arbitrary values.

pub mod json;

pub use json::{Json, MAX_DEPTH, SyntaxError};
