//! Typed custom field definitions, for every entity type.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::asset::AssetKind;
use crate::error::Problems;
use crate::input::{merge_patch, Input};
use crate::value;

wire_enum! {
    /// The entity types that carry custom fields.
    EntityType { Asset = "asset", Party = "party", Location = "location" }
}

wire_enum! {
    /// The value type of a custom field.
    CustomType { Text = "text", Number = "number", Date = "date", Boolean = "boolean", Choice = "choice" }
}

/// A custom field that an organisation adds to an entity type.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[schemars(rename = "CustomField")]
pub struct CustomFieldDef {
    /// Identifier.
    pub id: Uuid,
    /// The entity type it belongs to.
    pub entity_type: EntityType,
    /// Key inside the entity's `custom` object.
    pub key: String,
    /// Label shown in forms.
    pub label: String,
    /// Value type.
    pub field_type: CustomType,
    /// Allowed values for `choice`.
    pub choices: Vec<String>,
    /// Whether a value is required on create and update.
    pub required: bool,
    /// For assets: the kinds it applies to (empty = all kinds).
    pub asset_kinds: Vec<AssetKind>,
    /// Help text.
    pub description: Option<String>,
    /// Record version.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

const FIELDS: &[&str] = &[
    "entity_type",
    "key",
    "label",
    "field_type",
    "choices",
    "required",
    "asset_kinds",
    "description",
];
const READ_ONLY: &[&str] = &["id", "version", "created_at", "updated_at"];

impl CustomFieldDef {
    /// Builds a definition from a create request.
    pub fn from_input(obj: &Map<String, Value>, now: DateTime<Utc>) -> Result<Self, Problems> {
        Self::parse(obj, None, now)
    }

    /// Applies a merge-patch; the entity type, key and type cannot change.
    pub fn patched(
        &self,
        patch: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<Self, Problems> {
        let mut p = Problems::new();
        for k in ["entity_type", "key", "field_type"] {
            if let Some(v) = patch.get(k) {
                let cur = serde_json::to_value(match k {
                    "entity_type" => self.entity_type.as_str(),
                    "key" => self.key.as_str(),
                    _ => self.field_type.as_str(),
                })
                .unwrap_or(Value::Null);
                if *v != cur {
                    p.add(k, "cannot be changed; define a new field instead");
                }
            }
        }
        if !p.is_empty() {
            return Err(p);
        }
        let mut obj = match serde_json::to_value(self) {
            Ok(Value::Object(o)) => o,
            _ => Map::new(),
        };
        merge_patch(&mut obj, patch);
        Self::parse(&obj, Some(self), now)
    }

    fn parse(
        obj: &Map<String, Value>,
        old: Option<&Self>,
        now: DateTime<Utc>,
    ) -> Result<Self, Problems> {
        let mut r = Input::new(obj);
        r.reject_unknown(FIELDS, READ_ONLY, "a custom field definition");
        let entity_type = r.required("entity_type", EntityType::from_json);
        let key = r.required("key", crate::classification::parse_key);
        let label = r.required("label", |v| value::text(v, 100));
        let field_type = r.required("field_type", CustomType::from_json);
        let choices = r.or_default("choices", vec![], |v| value::text_list(v, 200, 100));
        let required = r.or_default("required", false, value::boolean);
        let asset_kinds = r.or_default("asset_kinds", vec![], |v| {
            value::text_list(v, 6, 20)?
                .iter()
                .map(|s| AssetKind::parse(s).ok_or_else(|| format!("{s:?} is not an asset kind")))
                .collect()
        });
        let description = r.optional("description", |v| value::text(v, 1000));
        if field_type == Some(CustomType::Choice) && choices.as_ref().is_some_and(|c| c.is_empty())
        {
            r.add("choices", "must list at least one value for a choice field");
        }
        if field_type.is_some_and(|t| t != CustomType::Choice)
            && choices.as_ref().is_some_and(|c| !c.is_empty())
        {
            r.add("choices", "only a choice field has choices");
        }
        if entity_type.is_some_and(|e| e != EntityType::Asset)
            && asset_kinds.as_ref().is_some_and(|k| !k.is_empty())
        {
            r.add("asset_kinds", "only asset fields can be limited to kinds");
        }
        let Input { problems, .. } = r;
        let (
            Some(entity_type),
            Some(key),
            Some(label),
            Some(field_type),
            Some(choices),
            Some(required),
            Some(asset_kinds),
            Some(description),
        ) = (
            entity_type,
            key,
            label,
            field_type,
            choices,
            required,
            asset_kinds,
            description,
        )
        else {
            return Err(problems);
        };
        problems.into_result(CustomFieldDef {
            id: old.map_or_else(crate::new_id, |o| o.id),
            entity_type,
            key,
            label,
            field_type,
            choices,
            required,
            asset_kinds,
            description,
            version: old.map_or(1, |o| o.version + 1),
            created_at: old.map_or(now, |o| o.created_at),
            updated_at: now,
        })
    }

    fn applies_to(&self, kind: Option<AssetKind>) -> bool {
        match kind {
            Some(k) => self.asset_kinds.is_empty() || self.asset_kinds.contains(&k),
            None => true,
        }
    }

    fn parse_value(&self, v: &Value) -> Result<Value, String> {
        Ok(match self.field_type {
            CustomType::Text => Value::String(value::text(v, 4000)?),
            CustomType::Number => match v.as_f64() {
                Some(n) if n.is_finite() => v.clone(),
                _ => return Err(format!("must be a number, not {}", value::type_name(v))),
            },
            CustomType::Date => Value::String(value::date(v)?.to_string()),
            CustomType::Boolean => Value::Bool(value::boolean(v)?),
            CustomType::Choice => {
                let allowed: Vec<&str> = self.choices.iter().map(String::as_str).collect();
                Value::String(value::choice(v, &allowed)?)
            }
        })
    }
}

/// Drops values whose definition was deleted, so an old record stays editable.
pub fn retain_defined(
    custom: &mut Map<String, Value>,
    defs: &[CustomFieldDef],
    entity: EntityType,
) {
    custom.retain(|k, _| defs.iter().any(|d| d.entity_type == entity && d.key == *k));
}

/// Validates an entity's `custom` object against the definitions for its type.
///
/// Returns the normalised object (nulls dropped); records problems as `custom.KEY`.
pub fn validate(
    defs: &[CustomFieldDef],
    entity: EntityType,
    kind: Option<AssetKind>,
    v: Option<&Value>,
    problems: &mut Problems,
) -> Map<String, Value> {
    let mut out = Map::new();
    let empty = Map::new();
    let obj = match v {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(o)) => o,
        Some(other) => {
            problems.add(
                "custom",
                format!("must be an object, not {}", value::type_name(other)),
            );
            return out;
        }
    };
    let defs: Vec<&CustomFieldDef> = defs
        .iter()
        .filter(|d| d.entity_type == entity && d.applies_to(kind))
        .collect();
    for (k, v) in obj {
        let field = format!("custom.{k}");
        match defs.iter().find(|d| d.key == *k) {
            None => problems.add(
                field,
                format!(
                    "no custom field {k:?} is defined for this {}",
                    entity.as_str()
                ),
            ),
            Some(_) if v.is_null() => {}
            Some(d) => {
                if let Some(v) = problems.check(&field, d.parse_value(v)) {
                    out.insert(k.clone(), v);
                }
            }
        }
    }
    for d in defs.iter().filter(|d| d.required) {
        if !out.contains_key(&d.key)
            && !problems
                .0
                .iter()
                .any(|e| e.field == format!("custom.{}", d.key))
        {
            problems.add(
                format!("custom.{}", d.key),
                format!("is required ({})", d.label),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(j: Value) -> CustomFieldDef {
        CustomFieldDef::from_input(j.as_object().unwrap(), crate::now()).unwrap()
    }

    #[test]
    fn values_are_checked_against_their_type() {
        let defs = vec![
            def(
                json!({"entity_type": "asset", "key": "cost_centre", "label": "Cost centre", "field_type": "choice", "choices": ["A", "B"], "required": true}),
            ),
            def(
                json!({"entity_type": "asset", "key": "bought", "label": "Bought", "field_type": "date", "asset_kinds": ["physical"]}),
            ),
        ];
        let mut p = Problems::new();
        let out = validate(
            &defs,
            EntityType::Asset,
            Some(AssetKind::Physical),
            Some(&json!({"cost_centre": "A", "bought": "2026-01-01"})),
            &mut p,
        );
        assert!(p.is_empty(), "{p}");
        assert_eq!(out.len(), 2);
        let mut p = Problems::new();
        validate(
            &defs,
            EntityType::Asset,
            Some(AssetKind::Data),
            Some(&json!({"bought": "2026-01-01"})),
            &mut p,
        );
        let fields: Vec<_> = p.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["custom.bought", "custom.cost_centre"]);
    }

    #[test]
    fn a_choice_needs_choices() {
        let e = CustomFieldDef::from_input(
            json!({"entity_type": "party", "key": "k", "label": "K", "field_type": "choice"})
                .as_object()
                .unwrap(),
            crate::now(),
        )
        .unwrap_err();
        assert_eq!(e.0[0].field, "choices");
    }
}
