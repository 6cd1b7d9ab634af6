//! `named_payloads!` declares an enum whose variants are keyed by a wire name (an action or a
//! push name) and carry a typed payload. It generates the name lookup in both directions, so the
//! list of names exists exactly once.

macro_rules! named_payloads {
    (
        $(#[$enum_meta:meta])*
        pub enum $name:ident {
            $( $(#[$meta:meta])* $wire:literal => $variant:ident($payload:ty), )*
        }
    ) => {
        $(#[$enum_meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $name {
            $( $(#[$meta])* $variant($payload), )*
        }

        impl $name {
            /// Every wire name this enum knows, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($wire),*];

            /// The wire name of this value (`action` on the wire).
            pub fn name(&self) -> &'static str {
                match self {
                    $( Self::$variant(_) => $wire, )*
                }
            }

            /// Decodes a payload given its wire name. An absent payload is read as `{}` for
            /// payloads that are objects.
            pub fn from_parts(
                name: &str,
                payload: Option<&serde_json::value::RawValue>,
            ) -> Result<Self, $crate::frame::PayloadError> {
                match name {
                    $( $wire => $crate::frame::decode_payload(payload).map(Self::$variant), )*
                    other => Err($crate::frame::PayloadError::UnknownName(other.to_owned())),
                }
            }

            /// Encodes the payload; `None` means "no payload key on the wire".
            pub fn payload(&self) -> $crate::frame::RawPayload {
                match self {
                    $( Self::$variant(p) => $crate::frame::encode_payload(p), )*
                }
            }
        }
    };
}
