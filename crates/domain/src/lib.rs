//! Custodian's domain: the types and rules of an ISO/IEC 27001 asset register.
//!
//! Pure Rust: no I/O, no async. Everything here is tested in microseconds and is
//! shared by every edge (API, CLI, importer) through the application services.

/// Declares an enum whose variants travel as snake_case words on the wire.
macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vm])* $var),+ }
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as serde::Deserialize>::deserialize(d)?;
                Self::parse(&s).ok_or_else(|| serde::de::Error::unknown_variant(&s, Self::NAMES))
            }
        }
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$var),+];
            /// The wire spelling of every value.
            pub const NAMES: &'static [&'static str] = &[$($s),+];
            /// The wire spelling.
            pub fn as_str(&self) -> &'static str { match self { $($name::$var => $s),+ } }
            /// Parses the wire spelling.
            pub fn parse(s: &str) -> Option<Self> { match s { $($s => Some($name::$var),)+ _ => None } }
            /// Parses a JSON value, with an error message naming the accepted words.
            pub fn from_json(v: &serde_json::Value) -> Result<Self, String> {
                $crate::value::choice(v, Self::NAMES).map(|s| Self::parse(&s).expect("checked by choice"))
            }
        }
        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> { stringify!($name).into() }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({"type": "string", "enum": Self::NAMES})
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

pub mod access;
pub mod account;
pub mod asset;
pub mod attestation;
pub mod audit;
pub mod classification;
pub mod compliance;
pub mod custody;
pub mod custom;
pub mod error;
pub mod exception;
pub mod fields;
#[cfg(test)]
mod fixtures;
pub mod input;
pub mod lifecycle;
pub mod location;
pub mod offboarding;
pub mod party;
pub mod policy;
pub mod policy_draft;
pub mod report;
pub mod sample;
pub mod stocktake;
pub mod totp;
pub mod value;

pub use error::{FieldError, Problems};

/// A new time-ordered identifier (UUID v7), so inserts land at the end of B-tree indexes.
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

/// The current time truncated to microseconds, the precision both databases keep.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    truncate_micros(chrono::Utc::now())
}

/// Truncates a timestamp to whole microseconds.
pub fn truncate_micros(t: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    use chrono::{DurationRound, TimeDelta};
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}
