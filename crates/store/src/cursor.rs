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

    /// The opaque text for a position in the register as it stood at a time: the cut of
    /// the chain read, the time asked for (microseconds since the epoch) and the last
    /// record read. The live list takes none of these.
    pub fn encode_cut(seq: i64, at_micros: i64, after: &str) -> String {
        URL_SAFE_NO_PAD.encode(format!("a1:{seq}:{at_micros}:{after}"))
    }

    /// Parses a cursor of [`Cursor::encode_cut`]: the cut, the time and the last record.
    pub fn decode_cut(s: &str) -> Result<(i64, i64, String), String> {
        let bad =
            || "is not a cursor of a listing as at a time: start again without it".to_string();
        let raw = URL_SAFE_NO_PAD.decode(s.trim()).map_err(|_| bad())?;
        let text = String::from_utf8(raw).map_err(|_| bad())?;
        let rest = text.strip_prefix("a1:").ok_or_else(bad)?;
        let mut parts = rest.splitn(3, ':');
        let (Some(seq), Some(at), Some(after)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        Ok((
            seq.parse().map_err(|_| bad())?,
            at.parse().map_err(|_| bad())?,
            after.to_string(),
        ))
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
    fn cuts_round_trip_and_are_not_positions_of_the_live_list() {
        let c = Cursor::encode_cut(42, 1_700_000_000_000_000, "01a2-x");
        assert_eq!(
            Cursor::decode_cut(&c),
            Ok((42, 1_700_000_000_000_000, "01a2-x".to_string()))
        );
        assert!(Cursor::decode_keyed(&c).is_err());
        assert!(Cursor::decode_cut(&Cursor(7).encode_keyed("k")).is_err());
    }

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
