//! Opaque keyset cursors.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// A position in a list: the internal sequence of the last row seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor(pub i64);

impl Cursor {
    /// The opaque text clients pass back.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("k1:{}", self.0))
    }

    /// The opaque text for a position in a sorted list: the row's position and its sort
    /// value.
    pub fn encode_keyed(&self, key: &str) -> String {
        URL_SAFE_NO_PAD.encode(format!("k2:{}:{key}", self.0))
    }

    /// Parses a cursor of either form: the position, and the sort value when it has one.
    pub fn decode_keyed(s: &str) -> Result<(Self, Option<String>), String> {
        let bad = || "is not a cursor this server returned".to_string();
        let raw = URL_SAFE_NO_PAD.decode(s.trim()).map_err(|_| bad())?;
        let text = String::from_utf8(raw).map_err(|_| bad())?;
        if let Some(rest) = text.strip_prefix("k2:") {
            let (n, key) = rest.split_once(':').ok_or_else(bad)?;
            return Ok((Cursor(n.parse().map_err(|_| bad())?), Some(key.to_string())));
        }
        Ok((Self::decode(s)?, None))
    }

    /// Parses a cursor given by a client.
    pub fn decode(s: &str) -> Result<Self, String> {
        let bad = || "is not a cursor this server returned".to_string();
        let raw = URL_SAFE_NO_PAD.decode(s.trim()).map_err(|_| bad())?;
        let text = String::from_utf8(raw).map_err(|_| bad())?;
        let n = text
            .strip_prefix("k1:")
            .ok_or_else(bad)?
            .parse::<i64>()
            .map_err(|_| bad())?;
        Ok(Cursor(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_junk() {
        assert_eq!(Cursor::decode(&Cursor(42).encode()), Ok(Cursor(42)));
        assert!(Cursor::decode("nope").is_err());
        assert!(Cursor::decode("").is_err());
        let keyed = Cursor(7).encode_keyed("Laptop: 14\"");
        assert_eq!(
            Cursor::decode_keyed(&keyed),
            Ok((Cursor(7), Some("Laptop: 14\"".to_string())))
        );
        assert_eq!(
            Cursor::decode_keyed(&Cursor(3).encode()),
            Ok((Cursor(3), None))
        );
    }
}
