//! Extractors that turn requests into checked inputs, answering problems for bad ones.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde_json::{Map, Value};
use uuid::Uuid;

use custodian_store::Cursor;

use crate::problem::Problem;

/// The request id given by the client or assigned by the server.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

pub use crate::auth::{Anyone, Caller};

/// A JSON object body: checks the media type, the size and the syntax.
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mime = ct.split(';').next().unwrap_or("").trim().to_string();
        if !(mime == "application/json" || mime.ends_with("+json")) {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "The body must be JSON",
                format!(
                    "send the body as application/json, not {:?}",
                    if mime.is_empty() { "nothing" } else { &mime }
                ),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Problem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too-large",
                    "The body is too large",
                    format!("the body exceeds the limit of {} bytes", crate::BODY_LIMIT),
                )
            } else {
                Problem::bad_request("", format!("the body could not be read: {e}"))
            }
        })?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(o)) => Ok(JsonObject(o)),
            Ok(other) => Err(Problem::bad_request(
                "",
                format!(
                    "the body must be a JSON object, not {}",
                    custodian_domain::value::type_name(&other)
                ),
            )),
            Err(e) => Err(Problem::bad_request(
                "",
                format!("the body is not valid JSON: {e}"),
            )),
        }
    }
}

/// Query parameters, checked against the names a route accepts.
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        let mut out = HashMap::new();
        for (k, v) in form_urlencoded(q)? {
            if out.insert(k.clone(), v).is_some() {
                return Err(Problem::bad_request(
                    &k,
                    format!("{k} is given more than once"),
                ));
            }
        }
        Ok(Params(out))
    }
}

/// One field of an `application/x-www-form-urlencoded` body.
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    form_urlencoded(text)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The fields of an `application/x-www-form-urlencoded` text, in order.
pub fn form_urlencoded(q: &str) -> Result<Vec<(String, String)>, Problem> {
    let mut out = Vec::new();
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.push((decode(k)?, decode(v)?));
    }
    Ok(out)
}

fn decode(s: &str) -> Result<String, Problem> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => out.push(b),
                    None => {
                        return Err(Problem::bad_request(
                            "",
                            "the query string has a bad %-escape",
                        ))
                    }
                }
                i += 2;
            }
            b'%' => {
                return Err(Problem::bad_request(
                    "",
                    "the query string has a bad %-escape",
                ))
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| Problem::bad_request("", "the query string is not UTF-8"))
}

impl Params {
    /// Refuses names the route does not know (a typo would otherwise widen a filter silently).
    pub fn only(&self, known: &[&str]) -> Result<(), Problem> {
        let mut unknown: Vec<&String> = self
            .0
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .collect();
        unknown.sort();
        match unknown.first() {
            Some(k) => Err(Problem::bad_request(
                k,
                format!(
                    "{k} is not a parameter of this list; use {}",
                    known.join(", ")
                ),
            )),
            None => Ok(()),
        }
    }

    /// A string parameter.
    pub fn str(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str).filter(|s| !s.is_empty())
    }

    /// A parameter parsed by `f`; a bad value is a 400 naming it.
    pub fn parse<T>(
        &self,
        k: &str,
        f: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, Problem> {
        match self.str(k) {
            None => Ok(None),
            Some(v) => f(v)
                .map(Some)
                .map_err(|m| Problem::bad_request(k, format!("{k} {m}"))),
        }
    }

    /// `limit` (1–500, default 50).
    pub fn limit(&self) -> Result<u32, Problem> {
        Ok(self
            .parse("limit", |v| match v.parse::<u32>() {
                Ok(n) if (1..=500).contains(&n) => Ok(n),
                _ => Err(format!("must be a whole number from 1 to 500, not {v:?}")),
            })?
            .unwrap_or(50))
    }

    /// `cursor`, as returned in `next_cursor`.
    pub fn cursor(&self) -> Result<Option<Cursor>, Problem> {
        self.parse("cursor", Cursor::decode)
    }

    /// A UUID parameter.
    pub fn id(&self, k: &str) -> Result<Option<Uuid>, Problem> {
        self.parse(k, |v| {
            Uuid::parse_str(v).map_err(|_| format!("must be an id (a UUID), not {v:?}"))
        })
    }

    /// A boolean parameter.
    pub fn bool(&self, k: &str) -> Result<Option<bool>, Problem> {
        self.parse(k, |v| match v {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err(format!("must be true or false, not {v:?}")),
        })
    }
}

/// What `If-Match` asks for (RFC 9110 §13.1.1): absent or `*` is any version; otherwise a
/// list of entity tags, compared strongly, so that a weak tag or a tag this server never
/// sent matches no version and the change is refused with 412.
pub struct IfMatch(pub custodian_app::Precondition);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(IfMatch(if_match(
            parts
                .headers
                .get_all(header::IF_MATCH)
                .iter()
                .map(|v| v.to_str().unwrap_or("")),
        )))
    }
}

/// Reads the values of `If-Match` header lines.
pub fn if_match<'a>(values: impl Iterator<Item = &'a str>) -> custodian_app::Precondition {
    use custodian_app::Precondition;
    let mut any_line = false;
    let mut versions = Vec::new();
    for line in values {
        any_line = true;
        if line.trim() == "*" {
            return Precondition::Any;
        }
        for tag in entity_tags(line) {
            // Strong comparison: a weak tag never matches (RFC 9110 §8.8.3.2).
            if let Some(v) = tag
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .and_then(|t| t.parse::<i64>().ok())
            {
                versions.push(v);
            }
        }
    }
    if any_line {
        Precondition::OneOf(versions)
    } else {
        Precondition::Any
    }
}

/// The entity tags of a list (`"a", W/"b"`), splitting on commas outside quotes.
fn entity_tags(line: &str) -> Vec<&str> {
    let mut tags = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                tags.push(line[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    tags.push(line[start..].trim());
    tags.retain(|t| !t.is_empty());
    tags
}

/// A record's id from the path (`{id}`): an id that is not a UUID names nothing, so it is
/// a 404 naming the kind of record the route serves.
pub struct RecordId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for RecordId {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|e| Problem::bad_request("id", e.body_text()))?;
        let route = parts
            .extensions
            .get::<axum::extract::MatchedPath>()
            .map(|m| m.as_str().to_string())
            .unwrap_or_default();
        Uuid::parse_str(&raw)
            .map(RecordId)
            .map_err(|_| Problem::from(custodian_app::AppError::not_found(record_of(&route), raw)))
    }
}

/// The kind of record a route under `/api/v1` serves, for messages.
fn record_of(route: &str) -> &'static str {
    match route.trim_start_matches("/api/v1/").split('/').next() {
        Some("assets") => "asset",
        Some("assignments") => "assignment",
        Some("attestations") => "attestation",
        Some("custom_fields") => "custom field",
        Some("delegations") => "delegation",
        Some("exceptions") => "exception",
        Some("locations") => "location",
        Some("offboardings") => "offboarding",
        Some("parties") => "party",
        Some("policies") => "policy",
        Some("stocktakes") => "stocktake",
        Some("tokens") => "token",
        Some("users") => "user",
        _ => "record",
    }
}

/// Parses a path id; an id that is not a UUID names nothing, so it is a 404.
pub fn path_id(entity: &'static str, s: &str) -> Result<Uuid, Problem> {
    Uuid::parse_str(s).map_err(|_| Problem::from(custodian_app::AppError::not_found(entity, s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_follows_rfc_9110() {
        use custodian_app::Precondition::{Any, OneOf};
        let read = |lines: &[&str]| if_match(lines.iter().copied());
        assert_eq!(read(&[]), Any);
        assert_eq!(read(&["*"]), Any);
        assert_eq!(read(&["\"3\""]), OneOf(vec![3]));
        assert_eq!(read(&["\"2\", \"3\""]), OneOf(vec![2, 3]));
        assert_eq!(read(&["\"2\"", "\"5\""]), OneOf(vec![2, 5]));
        // Tags this server never sent, and weak tags, match no version.
        assert_eq!(read(&["\"not-the-etag\""]), OneOf(vec![]));
        assert_eq!(read(&["W/\"3\""]), OneOf(vec![]));
        assert_eq!(read(&["garbage"]), OneOf(vec![]));
        assert_eq!(read(&["\"a,b\", \"4\""]), OneOf(vec![4]));
        assert!(!OneOf(vec![]).allows(1));
        assert!(OneOf(vec![2, 3]).allows(3));
    }

    #[test]
    fn a_route_names_its_record() {
        assert_eq!(record_of("/api/v1/assets/{id}/history"), "asset");
        assert_eq!(record_of("/api/v1/custom_fields/{id}"), "custom field");
        assert_eq!(record_of("/api/v1/nowhere/{id}"), "record");
    }

    #[test]
    fn query_decoding() {
        assert_eq!(
            form_urlencoded("a=b%20c&d=e+f&g").unwrap(),
            vec![
                ("a".into(), "b c".into()),
                ("d".into(), "e f".into()),
                ("g".into(), "".into())
            ]
        );
        assert!(form_urlencoded("a=%zz").is_err());
        assert!(form_urlencoded("a=%2").is_err());
        assert!(form_urlencoded("a=%").is_err());
    }
}
