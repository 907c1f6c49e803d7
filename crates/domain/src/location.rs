//! The location tree: site › building › room, each on or off premises.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::custom::{self, CustomFieldDef, EntityType};
use crate::error::Problems;
use crate::input::{merge_patch, Input};
use crate::value;

wire_enum! {
    /// The level of a place in the tree.
    LocationKind { Site = "site", Building = "building", Floor = "floor", Room = "room", Other = "other" }
}

/// A place where assets are kept.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Location {
    /// Identifier.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Site, building, floor, room or other.
    pub kind: LocationKind,
    /// The enclosing place (`None` = a top-level site).
    pub parent_id: Option<Uuid>,
    /// On the organisation's premises (A.7.9 applies off premises).
    pub on_premises: bool,
    /// Postal address or directions.
    pub address: Option<String>,
    /// Custom fields.
    pub custom: Map<String, Value>,
    /// Record version.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

const FIELDS: &[&str] = &[
    "name",
    "kind",
    "parent_id",
    "on_premises",
    "address",
    "custom",
];
const READ_ONLY: &[&str] = &["id", "version", "created_at", "updated_at", "path"];

impl Location {
    /// Builds a location from a create request.
    pub fn from_input(
        obj: &Map<String, Value>,
        defs: &[CustomFieldDef],
        now: DateTime<Utc>,
    ) -> Result<Self, Problems> {
        Self::parse(obj, defs, None, now)
    }

    /// Applies a merge-patch.
    pub fn patched(
        &self,
        patch: &Map<String, Value>,
        defs: &[CustomFieldDef],
        now: DateTime<Utc>,
    ) -> Result<Self, Problems> {
        let mut obj = match serde_json::to_value(self) {
            Ok(Value::Object(o)) => o,
            _ => Map::new(),
        };
        obj.retain(|k, v| FIELDS.contains(&k.as_str()) && !v.is_null());
        if let Some(Value::Object(c)) = obj.get_mut("custom") {
            custom::retain_defined(c, defs, EntityType::Location);
        }
        merge_patch(&mut obj, patch);
        Self::parse(&obj, defs, Some(self), now)
    }

    fn parse(
        obj: &Map<String, Value>,
        defs: &[CustomFieldDef],
        old: Option<&Self>,
        now: DateTime<Utc>,
    ) -> Result<Self, Problems> {
        let mut r = Input::new(obj);
        r.reject_unknown(FIELDS, READ_ONLY, "a location");
        let name = r.required("name", |v| value::text(v, 200));
        let kind = r.or_default("kind", LocationKind::Site, LocationKind::from_json);
        let parent_id = r.optional("parent_id", value::id);
        let on_premises = r.or_default("on_premises", true, value::boolean);
        let address = r.optional("address", |v| value::text(v, 1000));
        if let (Some(Some(p)), Some(o)) = (parent_id, old) {
            if p == o.id {
                r.add("parent_id", "a place cannot be inside itself");
            }
        }
        let custom = custom::validate(
            defs,
            EntityType::Location,
            None,
            obj.get("custom"),
            &mut r.problems,
        );
        let Input { problems, .. } = r;
        let (Some(name), Some(kind), Some(parent_id), Some(on_premises), Some(address)) =
            (name, kind, parent_id, on_premises, address)
        else {
            return Err(problems);
        };
        problems.into_result(Location {
            id: old.map_or_else(crate::new_id, |o| o.id),
            name,
            kind,
            parent_id,
            on_premises,
            address,
            custom,
            version: old.map_or(1, |o| o.version + 1),
            created_at: old.map_or(now, |o| o.created_at),
            updated_at: now,
        })
    }
}
