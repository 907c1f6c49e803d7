//! Parsers for the scalar value types used on the wire, shared by every entity.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use uuid::Uuid;

/// Describes a JSON value's type for error messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A non-empty, trimmed string of at most `max` characters.
pub fn text(v: &Value, max: usize) -> Result<String, String> {
    match v {
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                Err("must not be empty".into())
            } else if t.chars().count() > max {
                Err(format!("must be at most {max} characters"))
            } else if t
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
            {
                Err("must not contain control characters".into())
            } else {
                Ok(t.to_string())
            }
        }
        other => Err(format!("must be a string, not {}", type_name(other))),
    }
}

/// A boolean.
pub fn boolean(v: &Value) -> Result<bool, String> {
    v.as_bool()
        .ok_or_else(|| format!("must be true or false, not {}", type_name(v)))
}

/// A whole number that is not negative.
pub fn count(v: &Value) -> Result<i64, String> {
    match v.as_i64() {
        Some(n) if n >= 0 => Ok(n),
        Some(_) => Err("must not be negative".into()),
        None => Err(format!("must be a whole number, not {}", type_name(v))),
    }
}

/// A finite number that is not negative.
pub fn amount(v: &Value) -> Result<f64, String> {
    match v.as_f64() {
        Some(n) if n.is_finite() && n >= 0.0 => Ok(n),
        Some(_) => Err("must be a number that is not negative".into()),
        None => Err(format!("must be a number, not {}", type_name(v))),
    }
}

/// A calendar date written `YYYY-MM-DD`.
pub fn date(v: &Value) -> Result<NaiveDate, String> {
    match v {
        Value::String(s) => parse_date(s.trim()),
        other => Err(format!(
            "must be a date (YYYY-MM-DD), not {}",
            type_name(other)
        )),
    }
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("must be a date written YYYY-MM-DD, not {s:?}"))
}

/// An RFC 3339 time (a bare `YYYY-MM-DD` means midnight UTC), stored in UTC to the microsecond.
pub fn timestamp(v: &Value) -> Result<DateTime<Utc>, String> {
    match v {
        Value::String(s) => parse_timestamp(s.trim()),
        other => Err(format!(
            "must be an RFC 3339 time, not {}",
            type_name(other)
        )),
    }
}

/// Parses an RFC 3339 time or a bare date.
pub fn parse_timestamp(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(crate::truncate_micros(t.with_timezone(&Utc)));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        if let Some(t) = d.and_hms_opt(0, 0, 0) {
            return Ok(t.and_utc());
        }
    }
    Err(format!(
        "must be an RFC 3339 time such as 2026-01-31T09:00:00Z, not {s:?}"
    ))
}

/// Formats a time the way the API writes it: RFC 3339, UTC, microseconds.
pub fn format_timestamp(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// A timestamp on the wire: RFC 3339 in UTC with microseconds, as [`format_timestamp`]
/// writes it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Timestamp(pub String);

impl From<&DateTime<Utc>> for Timestamp {
    fn from(t: &DateTime<Utc>) -> Self {
        Timestamp(format_timestamp(t))
    }
}

impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "format": "date-time"})
    }
}

/// A UUID.
pub fn id(v: &Value) -> Result<Uuid, String> {
    match v {
        Value::String(s) => {
            Uuid::parse_str(s.trim()).map_err(|_| format!("must be an id (a UUID), not {s:?}"))
        }
        other => Err(format!(
            "must be an id (a UUID string), not {}",
            type_name(other)
        )),
    }
}

/// One of a fixed set of words.
pub fn choice(v: &Value, allowed: &[&str]) -> Result<String, String> {
    match v {
        Value::String(s) if allowed.contains(&s.trim()) => Ok(s.trim().to_string()),
        Value::String(s) => Err(format!("must be one of {}, not {s:?}", allowed.join(", "))),
        other => Err(format!(
            "must be one of {}, not {}",
            allowed.join(", "),
            type_name(other)
        )),
    }
}

/// A list of non-empty strings, trimmed, without duplicates (order kept).
pub fn text_list(v: &Value, max_items: usize, max_len: usize) -> Result<Vec<String>, String> {
    let Value::Array(items) = v else {
        return Err(format!("must be a list of strings, not {}", type_name(v)));
    };
    if items.len() > max_items {
        return Err(format!("must have at most {max_items} items"));
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let s = text(item, max_len).map_err(|m| format!("item {}: {m}", i + 1))?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(text(&json!("  a "), 5).unwrap(), "a");
        assert!(text(&json!("   "), 5).is_err());
        assert!(text(&json!("abcdef"), 5).is_err());
        assert!(text(&json!(3), 5).unwrap_err().contains("a number"));
        assert!(text(&json!("a\u{0}b"), 5).is_err());
    }

    #[test]
    fn timestamps_accept_dates_and_offsets() {
        let t = parse_timestamp("2026-01-31T10:00:00+01:00").unwrap();
        assert_eq!(format_timestamp(&t), "2026-01-31T09:00:00.000000Z");
        assert_eq!(
            format_timestamp(&parse_timestamp("2026-01-31").unwrap()),
            "2026-01-31T00:00:00.000000Z"
        );
        assert!(parse_timestamp("31/01/2026").is_err());
        assert!(parse_date("2026-02-30").is_err());
    }

    #[test]
    fn lists_drop_duplicates() {
        assert_eq!(
            text_list(&json!(["a", "b", "a"]), 10, 10).unwrap(),
            vec!["a", "b"]
        );
        assert!(text_list(&json!(["a", 1]), 10, 10)
            .unwrap_err()
            .starts_with("item 2"));
    }
}
