//! The classification scheme (SPEC §4): ordered levels, each with handling rules.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::Problems;
use crate::value;

wire_enum! {
    /// Whether something is allowed, needs approval, or is forbidden.
    Handling { Allowed = "allowed", ApprovalRequired = "approval_required", Forbidden = "forbidden" }
}

wire_enum! {
    /// The minimum disposal method a level accepts.
    DisposalRequirement { Any = "any", SecureErase = "secure_erase", PhysicalDestruction = "physical_destruction" }
}

/// A level of the classification scheme with its handling rules.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Classification {
    /// Stable key used by assets (`confidential`); never changes.
    pub key: String,
    /// Display name; may be renamed.
    pub name: String,
    /// Order: higher is more sensitive.
    pub rank: i32,
    /// What the level means.
    pub description: Option<String>,
    /// Devices holding it must be encrypted.
    pub encryption_required: bool,
    /// May it leave the premises.
    pub off_premises: Handling,
    /// May it be shared outside the organisation.
    pub external_sharing: Handling,
    /// Must its carriers be labelled.
    pub label_required: bool,
    /// The minimum accepted disposal method.
    pub disposal_method: DisposalRequirement,
    /// Default gap between reviews.
    pub review_interval_days: i32,
    /// Record version for optimistic concurrency.
    pub version: i64,
    /// When the level was created.
    pub created_at: DateTime<Utc>,
    /// When the level last changed.
    pub updated_at: DateTime<Utc>,
}

/// The four default levels: public, internal, confidential, restricted.
pub fn defaults(now: DateTime<Utc>) -> Vec<Classification> {
    use DisposalRequirement as D;
    use Handling as H;
    let level = |key: &str, name: &str, rank, desc: &str, enc, off, share, label, disp, days| {
        Classification {
            key: key.into(),
            name: name.into(),
            rank,
            description: Some(desc.into()),
            encryption_required: enc,
            off_premises: off,
            external_sharing: share,
            label_required: label,
            disposal_method: disp,
            review_interval_days: days,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    };
    vec![
        level(
            "public",
            "Public",
            0,
            "Approved for anyone to see.",
            false,
            H::Allowed,
            H::Allowed,
            false,
            D::Any,
            730,
        ),
        level(
            "internal",
            "Internal",
            1,
            "For staff and trusted contractors.",
            false,
            H::Allowed,
            H::ApprovalRequired,
            false,
            D::Any,
            365,
        ),
        level(
            "confidential",
            "Confidential",
            2,
            "Limited to those who need it; harm if disclosed.",
            true,
            H::Allowed,
            H::ApprovalRequired,
            true,
            D::SecureErase,
            365,
        ),
        level(
            "restricted",
            "Restricted",
            3,
            "Serious harm if disclosed; named people only.",
            true,
            H::ApprovalRequired,
            H::Forbidden,
            true,
            D::PhysicalDestruction,
            180,
        ),
    ]
}

const FIELDS: &[&str] = &[
    "key",
    "name",
    "rank",
    "description",
    "encryption_required",
    "off_premises",
    "external_sharing",
    "label_required",
    "disposal_method",
    "review_interval_days",
];
const READ_ONLY: &[&str] = &["version", "created_at", "updated_at"];

/// Checks a level key: lower-case letters, digits and `_`, starting with a letter.
pub fn parse_key(v: &Value) -> Result<String, String> {
    let s = value::text(v, 40)?;
    let ok = s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(s)
    } else {
        Err("must start with a lower-case letter and hold only a-z, 0-9 and _".into())
    }
}

impl Classification {
    /// Builds a level from a create request (every field named in errors at once).
    pub fn from_input(obj: &Map<String, Value>, now: DateTime<Utc>) -> Result<Self, Problems> {
        let mut base = Map::new();
        base.insert("encryption_required".into(), Value::Bool(false));
        base.insert("off_premises".into(), "allowed".into());
        base.insert("external_sharing".into(), "allowed".into());
        base.insert("label_required".into(), Value::Bool(false));
        base.insert("disposal_method".into(), "any".into());
        base.insert("review_interval_days".into(), 365.into());
        for (k, v) in obj {
            base.insert(k.clone(), v.clone());
        }
        Self::parse(&base, None, now)
    }

    /// Applies a merge-patch to this level; the key cannot change.
    pub fn patched(
        &self,
        patch: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<Self, Problems> {
        let mut obj = match serde_json::to_value(self) {
            Ok(Value::Object(o)) => o,
            _ => Map::new(),
        };
        let mut problems = Problems::new();
        for (k, v) in patch {
            if k == "key" && v.as_str() != Some(self.key.as_str()) {
                problems.add(
                    "key",
                    "cannot be changed; rename the level with name instead",
                );
            }
            obj.insert(k.clone(), v.clone());
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Self::parse(&obj, Some(self), now)
    }

    fn parse(
        obj: &Map<String, Value>,
        old: Option<&Self>,
        now: DateTime<Utc>,
    ) -> Result<Self, Problems> {
        let mut p = Problems::new();
        for k in obj.keys() {
            if !FIELDS.contains(&k.as_str()) && !READ_ONLY.contains(&k.as_str()) {
                p.add(k.clone(), "is not a field of a classification level");
            }
        }
        let req = |p: &mut Problems, k: &str| -> Option<Value> {
            match obj.get(k) {
                None | Some(Value::Null) => {
                    p.add(k, "is required");
                    None
                }
                Some(v) => Some(v.clone()),
            }
        };
        let key = req(&mut p, "key").and_then(|v| p.check("key", parse_key(&v)));
        let name = req(&mut p, "name").and_then(|v| p.check("name", value::text(&v, 100)));
        let rank = req(&mut p, "rank").and_then(|v| {
            p.check(
                "rank",
                value::count(&v).and_then(|n| i32::try_from(n).map_err(|_| "is too large".into())),
            )
        });
        let description = match obj.get("description") {
            None | Some(Value::Null) => Some(None),
            Some(v) => p.check("description", value::text(v, 2000)).map(Some),
        };
        let b = |p: &mut Problems, k: &str| req(p, k).and_then(|v| p.check(k, value::boolean(&v)));
        let encryption_required = b(&mut p, "encryption_required");
        let label_required = b(&mut p, "label_required");
        let off_premises = req(&mut p, "off_premises")
            .and_then(|v| p.check("off_premises", Handling::from_json(&v)));
        let external_sharing = req(&mut p, "external_sharing")
            .and_then(|v| p.check("external_sharing", Handling::from_json(&v)));
        let disposal_method = req(&mut p, "disposal_method")
            .and_then(|v| p.check("disposal_method", DisposalRequirement::from_json(&v)));
        let review_interval_days = req(&mut p, "review_interval_days").and_then(|v| {
            p.check(
                "review_interval_days",
                value::count(&v).and_then(|n| {
                    if (1..=3650).contains(&n) {
                        Ok(n as i32)
                    } else {
                        Err("must be between 1 and 3650 days".into())
                    }
                }),
            )
        });
        match (
            key,
            name,
            rank,
            description,
            encryption_required,
            off_premises,
            external_sharing,
            label_required,
            disposal_method,
            review_interval_days,
        ) {
            (
                Some(key),
                Some(name),
                Some(rank),
                Some(description),
                Some(encryption_required),
                Some(off_premises),
                Some(external_sharing),
                Some(label_required),
                Some(disposal_method),
                Some(review_interval_days),
            ) if p.is_empty() => Ok(Classification {
                key,
                name,
                rank,
                description,
                encryption_required,
                off_premises,
                external_sharing,
                label_required,
                disposal_method,
                review_interval_days,
                version: old.map_or(1, |o| o.version + 1),
                created_at: old.map_or(now, |o| o.created_at),
                updated_at: now,
            }),
            _ => Err(p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_are_ordered() {
        let d = defaults(crate::now());
        let keys: Vec<_> = d.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["public", "internal", "confidential", "restricted"]);
        assert!(d.windows(2).all(|w| w[0].rank < w[1].rank));
    }

    #[test]
    fn input_errors_name_every_field() {
        let o = json!({"key": "Top Secret", "rank": -1, "off_premises": "maybe", "colour": "red"});
        let e = Classification::from_input(o.as_object().unwrap(), crate::now()).unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|e| e.field.as_str()).collect();
        for f in ["key", "name", "rank", "off_premises", "colour"] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
    }

    #[test]
    fn key_cannot_change_but_name_can() {
        let c = defaults(crate::now()).remove(2);
        assert!(c
            .patched(json!({"key": "x"}).as_object().unwrap(), crate::now())
            .is_err());
        let r = c
            .patched(
                json!({"name": "Company confidential"}).as_object().unwrap(),
                crate::now(),
            )
            .unwrap();
        assert_eq!(r.key, "confidential");
        assert_eq!(r.version, 2);
    }
}
