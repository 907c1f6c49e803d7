//! The audit trail (SPEC §9): events with field-level changes, hash-chained.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::value::format_timestamp;

/// Who made a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// The command line, acting for whoever runs it on the server.
    System,
    /// The API before accounts exist: a caller on the local machine.
    Local,
    /// A signed-in user.
    User(Uuid),
    /// A user acting through one of their API tokens: (user, token).
    Token(Uuid, Uuid),
    /// Someone not signed in (a failed sign-in, a first-run setup).
    Anonymous,
}

impl Actor {
    /// The actor as written in events (`system`, `local`, `user:ID`).
    pub fn as_string(&self) -> String {
        match self {
            Actor::System => "system".into(),
            Actor::Local => "local".into(),
            Actor::User(id) => format!("user:{id}"),
            Actor::Token(user, token) => format!("user:{user}/token:{token}"),
            Actor::Anonymous => "anonymous".into(),
        }
    }
}

/// The hash that precedes the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event to be appended; the store assigns its sequence number and hashes.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    /// Identifier.
    pub id: Uuid,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Who did it.
    pub actor: String,
    /// What was done (`asset.created`).
    pub action: String,
    /// The type of the changed entity (`asset`).
    pub entity_type: String,
    /// The changed entity's id (or key).
    pub entity_id: String,
    /// Field-level changes: `{field: {"before": …, "after": …}}`, plus any context.
    pub changes: Value,
    /// The request it came from.
    pub request_id: Option<String>,
    /// The canonical text of `changes`, when the caller rendered it already.
    pub rendered: Option<String>,
}

impl NewEvent {
    /// Builds an event.
    pub fn new(
        actor: &Actor,
        action: &str,
        entity_type: &str,
        entity_id: impl ToString,
        changes: Value,
        request_id: Option<&str>,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: crate::new_id(),
            occurred_at: at,
            actor: actor.as_string(),
            action: action.into(),
            entity_type: entity_type.into(),
            entity_id: entity_id.to_string(),
            changes,
            request_id: request_id.map(String::from),
            rendered: None,
        }
    }

    /// The event of a created record: every field of `view` as `{"after": value}`, rendered
    /// straight to canonical text (the common case of imports, kept cheap).
    pub fn created(
        actor: &Actor,
        action: &str,
        entity_type: &str,
        entity_id: impl ToString,
        view: &Map<String, Value>,
        request_id: Option<&str>,
        at: DateTime<Utc>,
    ) -> Self {
        let mut entries: Vec<(&String, &Value)> =
            view.iter().filter(|(_, v)| !v.is_null()).collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut text = String::with_capacity(64 * entries.len());
        text.push('{');
        for (i, (k, v)) in entries.into_iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            write_string(k, &mut text);
            text.push_str(":{\"after\":");
            write_canonical(v, &mut text);
            text.push('}');
        }
        text.push('}');
        let mut e = Self::new(
            actor,
            action,
            entity_type,
            entity_id,
            Value::Null,
            request_id,
            at,
        );
        e.rendered = Some(text);
        e
    }

    /// The canonical text of the changes, as stored and hashed.
    pub fn changes_text(&self) -> String {
        match &self.rendered {
            Some(t) => t.clone(),
            None => canonical(&self.changes),
        }
    }

    /// Seals the event at position `seq` after `prev_hash`.
    pub fn seal(mut self, seq: i64, prev_hash: &str) -> Event {
        let changes = match self.rendered.take() {
            Some(t) => t,
            None => canonical(&self.changes),
        };
        let hash = event_hash(
            seq,
            prev_hash,
            &self.id,
            &self.occurred_at,
            &self.actor,
            &self.action,
            &self.entity_type,
            &self.entity_id,
            &changes,
            self.request_id.as_deref(),
        );
        Event {
            seq,
            id: self.id,
            occurred_at: self.occurred_at,
            actor: self.actor,
            action: self.action,
            entity_type: self.entity_type,
            entity_id: self.entity_id,
            changes,
            request_id: self.request_id,
            prev_hash: prev_hash.into(),
            hash,
        }
    }
}

/// An event as the API shows it: its changes as JSON.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[schemars(rename = "Event")]
pub struct EventView {
    /// Position in the chain, from 1 without gaps.
    pub seq: i64,
    /// Identifier.
    pub id: Uuid,
    /// When it happened.
    pub occurred_at: crate::value::Timestamp,
    /// Who did it: `user:<id>`, `token:<id>`, `system`…
    pub actor: String,
    /// What was done (`asset.created`…).
    pub action: String,
    /// The kind of record.
    pub entity_type: String,
    /// The record's id.
    pub entity_id: String,
    /// What changed: each field's `before` and `after`, or what was recorded.
    pub changes: Value,
    /// The request that did it.
    pub request_id: Option<String>,
    /// The previous event's hash (SHA-256, hex).
    pub prev_hash: String,
    /// This event's hash (SHA-256, hex).
    pub hash: String,
}

/// A stored event.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Event {
    /// Position in the chain, from 1 without gaps.
    pub seq: i64,
    /// Identifier.
    pub id: Uuid,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Who did it.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// Entity type.
    pub entity_type: String,
    /// Entity id.
    pub entity_id: String,
    /// The canonical JSON text of the changes.
    pub changes: String,
    /// Request id.
    pub request_id: Option<String>,
    /// The previous event's hash.
    pub prev_hash: String,
    /// This event's hash.
    pub hash: String,
}

impl Event {
    /// The hash this event's contents should have.
    pub fn expected_hash(&self) -> String {
        event_hash(
            self.seq,
            &self.prev_hash,
            &self.id,
            &self.occurred_at,
            &self.actor,
            &self.action,
            &self.entity_type,
            &self.entity_id,
            &self.changes,
            self.request_id.as_deref(),
        )
    }

    /// The event as the API shows it.
    pub fn view(&self) -> EventView {
        EventView {
            seq: self.seq,
            id: self.id,
            occurred_at: (&self.occurred_at).into(),
            actor: self.actor.clone(),
            action: self.action.clone(),
            entity_type: self.entity_type.clone(),
            entity_id: self.entity_id.clone(),
            changes: serde_json::from_str::<Value>(&self.changes).unwrap_or(Value::Null),
            request_id: self.request_id.clone(),
            prev_hash: self.prev_hash.clone(),
            hash: self.hash.clone(),
        }
    }

    /// [`Event::view`] as JSON.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.view()).unwrap_or(Value::Null)
    }
}

#[allow(clippy::too_many_arguments)]
fn event_hash(
    seq: i64,
    prev: &str,
    id: &Uuid,
    at: &DateTime<Utc>,
    actor: &str,
    action: &str,
    et: &str,
    eid: &str,
    changes: &str,
    rid: Option<&str>,
) -> String {
    // Each field is length-prefixed, so no two different events hash the same bytes.
    let mut h = Sha256::new();
    let mut field = |b: &[u8]| {
        h.update((b.len() as u64).to_le_bytes());
        h.update(b);
    };
    field(prev.as_bytes());
    field(&seq.to_le_bytes());
    field(id.as_bytes());
    field(format_timestamp(at).as_bytes());
    field(actor.as_bytes());
    field(action.as_bytes());
    field(et.as_bytes());
    field(eid.as_bytes());
    field(changes.as_bytes());
    match rid {
        Some(r) => field(r.as_bytes()),
        None => h.update(u64::MAX.to_le_bytes()),
    }
    hex::encode(h.finalize())
}

/// The key that seals the chain (SPEC §9): a keyed MAC over a position and its hash, so
/// that whoever can write the database, but does not hold the key, cannot rewrite the
/// chain and make it verify again. The hashes stay plain SHA-256, so that they remain
/// stable public names of the chain's states (quoted in logs, snapshots and evidence).
#[derive(Clone)]
pub struct ChainKey {
    key: [u8; 32],
    id: String,
}

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// What a seal vouches for: a checkpoint stays with the chain; the head's seal is made anew
/// at every change, so an older head's seal is never stored where it could be put back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealPurpose {
    /// The last event of a committed change.
    Checkpoint,
    /// The chain's current head.
    Head,
}

impl ChainKey {
    /// A chain key from 32 secret bytes and the public id of the key they come from.
    pub fn new(key: [u8; 32], id: impl Into<String>) -> Self {
        Self { key, id: id.into() }
    }

    /// The public id of the key.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn mac(&self, purpose: SealPurpose, seq: i64, hash: &str, prev: i64) -> hmac::Hmac<Sha256> {
        use hmac::Mac;
        // new_from_slice accepts a key of any length for HMAC.
        let mut m = <hmac::Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        let label: &[u8] = match purpose {
            SealPurpose::Checkpoint => b"custodian audit checkpoint v1",
            SealPurpose::Head => b"custodian audit head v1",
        };
        for field in [
            label,
            &seq.to_le_bytes()[..],
            hash.as_bytes(),
            &prev.to_le_bytes()[..],
        ] {
            m.update(&(field.len() as u64).to_le_bytes());
            m.update(field);
        }
        m
    }

    /// The seal of the chain at `seq`, whose event has `hash`, in lower-case hex. `prev` is
    /// the sequence number of the checkpoint before (0 for none), so that a checkpoint
    /// removed from between others breaks the next one's seal; a head's seal takes 0.
    pub fn seal(&self, purpose: SealPurpose, seq: i64, hash: &str, prev: i64) -> String {
        use hmac::Mac;
        hex::encode(self.mac(purpose, seq, hash, prev).finalize().into_bytes())
    }

    /// Whether `seal` is [`ChainKey::seal`] of these (in constant time).
    pub fn check(&self, purpose: SealPurpose, seq: i64, hash: &str, prev: i64, seal: &str) -> bool {
        use hmac::Mac;
        match hex::decode(seal) {
            Ok(bytes) => self
                .mac(purpose, seq, hash, prev)
                .verify_slice(&bytes)
                .is_ok(),
            Err(_) => false,
        }
    }
}

/// A seal as stored: the key it was made with and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seal {
    /// The public id of the key.
    pub key_id: String,
    /// The MAC, in hex.
    pub value: String,
}

/// The SHA-256 digest of some bytes, in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// JSON text with object keys sorted, so that the same value always hashes the same.
pub fn canonical(v: &Value) -> String {
    let mut out = String::with_capacity(256);
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(o) => {
            let mut entries: Vec<(&String, &Value)> = o.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_canonical(v, out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        Value::String(s) => write_string(s, out),
        other => out.push_str(&other.to_string()),
    }
}

/// A JSON string literal, escaped as serde_json escapes it.
fn write_string(s: &str, out: &mut String) {
    if let Ok(t) = serde_json::to_string(s) {
        out.push_str(&t);
    }
}

/// Field-level differences between two views of a record: `{field: {before, after}}`,
/// where a side that is null (a field set for the first time, or cleared) is left out.
pub fn diff(before: &Map<String, Value>, after: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let b = before.get(k).unwrap_or(&Value::Null);
        let a = after.get(k).unwrap_or(&Value::Null);
        if b != a {
            let mut change = Map::new();
            if !b.is_null() {
                change.insert("before".into(), b.clone());
            }
            if !a.is_null() {
                change.insert("after".into(), a.clone());
            }
            out.insert(k.clone(), Value::Object(change));
        }
    }
    out
}

/// The changes of a created record: every field, before null.
pub fn created(after: &Map<String, Value>) -> Map<String, Value> {
    diff(&Map::new(), after)
}

/// Replays an event's field-level changes onto a record's view: each `{field: {before,
/// after}}` entry sets the field to `after`, or clears it when there is none. Entries of
/// another shape are context (who it was issued to, why), not fields, and are passed over.
pub fn replay(state: &mut Map<String, Value>, changes: &Value) {
    replay_fields(state, changes, |_| true);
}

/// [`replay`] of the fields `keep` names only; answers whether any of them changed.
pub fn replay_fields(
    state: &mut Map<String, Value>,
    changes: &Value,
    keep: impl Fn(&str) -> bool,
) -> bool {
    let Value::Object(m) = changes else {
        return false;
    };
    let mut changed = false;
    for (k, v) in m {
        let Value::Object(c) = v else { continue };
        if c.is_empty() || !c.keys().all(|k| k == "before" || k == "after") || !keep(k) {
            continue;
        }
        match c.get("after") {
            Some(a) if !a.is_null() => {
                changed |= state.insert(k.clone(), a.clone()).as_ref() != Some(a);
            }
            _ => {
                changed |= state.remove(k).is_some();
            }
        }
    }
    changed
}

/// Where a chain is broken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainBreak {
    /// The first event that does not fit (or the sequence number expected there).
    pub seq: i64,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "event {}: {}", self.seq, self.reason)
    }
}

/// Checks events one by one, in sequence order.
#[derive(Debug)]
pub struct ChainVerifier {
    next_seq: i64,
    prev_hash: String,
    /// Events checked so far.
    pub checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            next_seq: 1,
            prev_hash: GENESIS.into(),
            checked: 0,
        }
    }
}

impl ChainVerifier {
    /// Checks the next event.
    pub fn feed(&mut self, e: &Event) -> Result<(), ChainBreak> {
        if e.seq != self.next_seq {
            let reason = if e.seq > self.next_seq {
                format!(
                    "missing: the chain jumps from event {} to event {} (events were removed)",
                    self.next_seq - 1,
                    e.seq
                )
            } else {
                format!("out of order: expected event {}", self.next_seq)
            };
            return Err(ChainBreak {
                seq: self.next_seq.min(e.seq),
                reason,
            });
        }
        if e.prev_hash != self.prev_hash {
            return Err(ChainBreak { seq: e.seq, reason: "its link to the previous event is broken (an event before it was altered, removed or reordered)".into() });
        }
        if e.expected_hash() != e.hash {
            return Err(ChainBreak {
                seq: e.seq,
                reason: format!(
                    "its contents were altered ({} by {} on {} {})",
                    e.action, e.actor, e.entity_type, e.entity_id
                ),
            });
        }
        self.next_seq += 1;
        self.prev_hash = e.hash.clone();
        self.checked += 1;
        Ok(())
    }

    /// Checks that the chain ends where the store's head says it ends.
    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<(), ChainBreak> {
        let last = self.next_seq - 1;
        if head_seq != last {
            return Err(ChainBreak { seq: last + 1, reason: format!("missing: the chain ends at event {last} but {head_seq} were written (events were removed from the end)") });
        }
        if head_hash != self.prev_hash {
            return Err(ChainBreak {
                seq: last,
                reason: "the last event does not match the recorded head of the chain".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain(n: usize) -> Vec<Event> {
        let mut prev = GENESIS.to_string();
        (1..=n as i64)
            .map(|i| {
                let e = NewEvent::new(
                    &Actor::System,
                    "asset.created",
                    "asset",
                    i,
                    json!({"b": 1, "a": [i]}),
                    None,
                    crate::now(),
                )
                .seal(i, &prev);
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn verify(events: &[Event]) -> Result<(), ChainBreak> {
        let mut v = ChainVerifier::default();
        for e in events {
            v.feed(e)?;
        }
        Ok(())
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(5);
        assert!(verify(&c).is_ok());
        let mut v = ChainVerifier::default();
        c.iter().for_each(|e| v.feed(e).unwrap());
        assert!(v.finish(5, &c[4].hash).is_ok());
        assert!(v.finish(6, &c[4].hash).is_err());
    }

    #[test]
    fn tampering_is_found_at_the_first_bad_event() {
        let mut c = chain(5);
        c[2].actor = "mallory".into();
        assert_eq!(verify(&c).unwrap_err().seq, 3);
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(verify(&c).unwrap_err().seq, 2);
        let mut c = chain(5);
        c.swap(1, 2);
        assert_eq!(verify(&c).unwrap_err().seq, 2);
    }

    #[test]
    fn canonical_sorts_keys() {
        assert_eq!(
            canonical(&json!({"b": 1, "a": {"d": 1, "c": 2}})),
            r#"{"a":{"c":2,"d":1},"b":1}"#
        );
    }

    #[test]
    fn a_created_event_renders_like_its_diff() {
        let view =
            json!({"name": "x", "tags": ["b", "a"], "custom": {"z": 1, "a": 2}, "none": null});
        let fast = NewEvent::created(
            &Actor::System,
            "asset.created",
            "asset",
            1,
            view.as_object().unwrap(),
            None,
            crate::now(),
        );
        let slow = canonical(&Value::Object(created(view.as_object().unwrap())));
        assert_eq!(fast.changes_text(), slow);
    }

    #[test]
    fn replaying_diffs_rebuilds_the_record() {
        let a = json!({"name": "x", "tags": ["a"], "serial_number": "S1"});
        let b = json!({"name": "y", "tags": ["a"], "model": "M"});
        let mut state = Map::new();
        replay(&mut state, &Value::Object(created(a.as_object().unwrap())));
        assert_eq!(Value::Object(state.clone()), a);
        let mut d = diff(a.as_object().unwrap(), b.as_object().unwrap());
        d.insert("reason".into(), json!("context, not a field"));
        d.insert("holder".into(), json!({"id": 1}));
        replay(&mut state, &Value::Object(d));
        assert_eq!(Value::Object(state), b);
    }

    #[test]
    fn diff_names_changed_fields() {
        let a = json!({"name": "x", "tags": ["a"]});
        let b = json!({"name": "y", "tags": ["a"]});
        let d = diff(a.as_object().unwrap(), b.as_object().unwrap());
        assert_eq!(
            Value::Object(d),
            json!({"name": {"before": "x", "after": "y"}})
        );
    }
}
