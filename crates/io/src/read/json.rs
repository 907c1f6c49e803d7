//! JSON as the importer reads it: a key given twice in an object is refused.
//!
//! serde_json's own `Value` keeps the last of two equal keys, so `{"name": "a", "name": "b"}`
//! would import as `b` without a word. The visitor here builds the same `Value` but stops
//! at the second key, at any depth, while parsing: one pass, no second look at the text.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};

/// Why a text is not taken as JSON.
#[derive(Debug)]
pub(crate) enum JsonError {
    /// An object names a key twice: the path to it, as `name`, `custom.colour` or
    /// `international_transfers[0].country`.
    Duplicate(String),
    /// The text is not JSON.
    Invalid(serde_json::Error),
}

/// Parses one JSON value, refusing duplicate keys.
pub(crate) fn parse(text: &str) -> Result<Value, JsonError> {
    let mut path = Vec::new();
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = Strict { path: &mut path }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v));
    match parsed {
        Ok(v) => Ok(v),
        // The path is only ever filled by a duplicate, so a syntax error stays one.
        Err(_) if !path.is_empty() => Err(JsonError::Duplicate(render(&path))),
        Err(e) => Err(JsonError::Invalid(e)),
    }
}

/// One step of the path to a duplicate key.
enum Step {
    Key(String),
    Index(usize),
}

/// The path, whose steps were pushed innermost first as the error travelled outwards.
fn render(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path.iter().rev() {
        match step {
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Builds a `Value` as serde_json does, noting where a duplicate key was found.
///
/// The path lives outside the error because serde's errors carry only a message; each
/// enclosing object or list adds its own step on the way out, so the path costs nothing
/// unless there is a duplicate.
struct Strict<'a> {
    path: &'a mut Vec<Step>,
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Number::from_f64(n).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let path = self.path;
        let mut items = Vec::new();
        loop {
            match seq.next_element_seed(Strict { path: &mut *path }) {
                Ok(Some(v)) => items.push(v),
                Ok(None) => return Ok(Value::Array(items)),
                Err(e) => {
                    if !path.is_empty() {
                        path.push(Step::Index(items.len()));
                    }
                    return Err(e);
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let path = self.path;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let v = match map.next_value_seed(Strict { path: &mut *path }) {
                Ok(v) => v,
                Err(e) => {
                    if !path.is_empty() {
                        path.push(Step::Key(key));
                    }
                    return Err(e);
                }
            };
            // One lookup for both the check and the insert: every key of every line
            // passes here.
            match out.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(v);
                }
                Entry::Occupied(first) => {
                    path.push(Step::Key(first.key().clone()));
                    return Err(de::Error::custom("a key appears twice in an object"));
                }
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn duplicate(text: &str) -> String {
        match parse(text) {
            Err(JsonError::Duplicate(p)) => p,
            Err(JsonError::Invalid(e)) => panic!("{text}: invalid: {e}"),
            Ok(v) => panic!("{text}: parsed as {v}"),
        }
    }

    #[test]
    fn values_are_read_as_serde_json_reads_them() {
        let text = r#"{"a": [1, -2, 2.5, 18446744073709551615, true, null, "x\u00e9"], "b": {}, "c": [], "d": {"e": {"f": "g"}}}"#;
        let strict = parse(text).expect("parses");
        let plain: Value = serde_json::from_str(text).expect("parses");
        assert_eq!(strict, plain);
        assert_eq!(
            strict
                .as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>()),
            Some(vec!["a".into(), "b".into(), "c".into(), "d".into()]),
            "keys keep their order"
        );
        assert_eq!(parse("\"s\"").ok(), Some(json!("s")));
    }

    #[test]
    fn a_duplicate_key_is_named_by_its_path() {
        assert_eq!(duplicate(r#"{"name": "a", "name": "b"}"#), "name");
        assert_eq!(
            duplicate(r#"{"name": "a", "custom": {"colour": "red", "colour": "blue"}}"#),
            "custom.colour"
        );
        assert_eq!(
            duplicate(r#"{"t": [{"country": "US"}, {"country": "US", "country": "UK"}]}"#),
            "t[1].country"
        );
        assert_eq!(duplicate(r#"[{"a": 1, "a": 1}]"#), "[0].a");
        // A key repeated in different objects is not a duplicate.
        assert!(parse(r#"{"a": {"x": 1}, "b": {"x": 1}, "x": [{"x": 1}, {"x": 2}]}"#).is_ok());
    }

    #[test]
    fn invalid_json_stays_a_syntax_error() {
        for text in ["{\"a\": }", "{\"a\": 1} x", "", "[1,"] {
            assert!(
                matches!(parse(text), Err(JsonError::Invalid(_))),
                "{text:?}"
            );
        }
    }
}
