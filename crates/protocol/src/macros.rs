//! The two declaration macros of the wire vocabulary.
//!
//! - `actions!` declares every RTM action once: its wire name, its request type, its response
//!   type, and the push that settles it when a push (not the response) does. From that one
//!   table come the `Request` and `Response` enums (what a server matches on) and an
//!   [`Action`](crate::action::Action) impl per request type (what a client calls with, so a call
//!   is typed end to end and decodes only the responses it asks for).
//! - `named_payloads!` declares an enum whose variants are keyed by a wire name (the pushes).
//!
//! Both generate the name lookup in both directions, so each list of names exists once.

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

            /// [`Self::from_parts`] with the wire codec (the widget's): the same payloads read
            /// the same, `Json::Null` standing for an absent payload.
            pub fn from_wire_parts(
                name: &str,
                payload: &$crate::wire::Json,
            ) -> Result<Self, $crate::frame::PayloadError> {
                match name {
                    $( $wire => $crate::frame::decode_wire_payload(payload).map(Self::$variant), )*
                    other => Err($crate::frame::PayloadError::UnknownName(other.to_owned())),
                }
            }

            /// [`Self::payload`] with the wire codec; `None` means "no payload key on the wire".
            pub fn wire_payload(&self) -> Option<$crate::wire::Json> {
                match self {
                    $( Self::$variant(p) => $crate::frame::encode_wire_payload(p), )*
                }
            }
        }
    };
}

macro_rules! actions {
    (
        $(
            $(#[$meta:meta])*
            $wire:literal => $variant:ident($request:ty) -> $response:ty $(, settled_by $push:literal)?;
        )*
    ) => {
        named_payloads! {
            /// A client request, by action.
            pub enum Request {
                $( $(#[$meta])* $wire => $variant($request), )*
            }
        }

        named_payloads! {
            /// The payload of a successful response, by action.
            pub enum Response {
                $( $wire => $variant($response), )*
            }
        }

        $(
            impl $crate::action::Action for $request {
                const NAME: &'static str = $wire;
                type Response = $response;
                const SETTLED_BY: Option<&'static str> = actions!(@push $($push)?);
                fn into_request(self) -> Request {
                    Request::$variant(self)
                }
                fn into_response(response: $response) -> Response {
                    Response::$variant(response)
                }
            }
        )*
    };
    (@push) => { None };
    (@push $push:literal) => { Some($push) };
}
