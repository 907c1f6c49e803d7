//! Assets (SPEC §2): the policy minimum, kind-specific fields, completeness and relations.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::custom::{self, CustomFieldDef, EntityType};
use crate::error::Problems;
use crate::fields::{self, FieldType};
use crate::input::{merge_patch, Input};
use crate::lifecycle::Status;
use crate::value;

wire_enum! {
    /// The six kinds of asset.
    AssetKind {
        Physical = "physical", Virtual = "virtual", Data = "data",
        Software = "software", Service = "service", Intangible = "intangible",
    }
}

wire_enum! {
    /// How important an asset is to the organisation.
    Importance { Low = "low", Medium = "medium", High = "high", Critical = "critical" }
}

wire_enum! {
    /// The type of a link between two assets.
    RelationType {
        RunsOn = "runs_on", Stores = "stores", Processes = "processes", DeployedOn = "deployed_on",
        DependsOn = "depends_on", Contains = "contains", BacksUp = "backs_up",
    }
}

/// An asset of value to the organisation.
#[derive(Clone, Debug, PartialEq)]
pub struct Asset {
    /// Identifier (UUID v7).
    pub id: Uuid,
    /// Unique human tag (`AST-000001`).
    pub asset_number: String,
    /// Kind; fixed at creation.
    pub kind: AssetKind,
    /// Name.
    pub name: String,
    /// Free description.
    pub description: Option<String>,
    /// The owning party (person, team or role).
    pub owner_id: Uuid,
    /// Importance.
    pub importance: Importance,
    /// A level key of the classification scheme.
    pub classification: String,
    /// Lifecycle status.
    pub status: Status,
    /// Where it is.
    pub location_id: Option<Uuid>,
    /// Free tags.
    pub tags: Vec<String>,
    /// Custom fields.
    pub custom: Map<String, Value>,
    /// Ids in other systems (`{"mdm": "…"}`).
    pub external_ids: Map<String, Value>,
    /// Last review ("last checked" for devices).
    pub last_reviewed_at: Option<DateTime<Utc>>,
    /// Who last reviewed it.
    pub last_reviewed_by: Option<Uuid>,
    /// When the next review falls due.
    pub next_review_at: Option<NaiveDate>,
    /// Kind-specific fields that are set (see [`fields::KIND_FIELDS`]).
    pub attrs: Map<String, Value>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Record version, raised by every change.
    pub version: i64,
}

/// The common fields a client may write.
pub const COMMON_FIELDS: &[&str] = &[
    "asset_number",
    "kind",
    "name",
    "description",
    "owner_id",
    "importance",
    "classification",
    "status",
    "location_id",
    "tags",
    "custom",
    "external_ids",
    "last_reviewed_at",
    "last_reviewed_by",
    "next_review_at",
];
/// Fields the server maintains; ignored on input so a fetched record can be sent back.
pub const READ_ONLY_FIELDS: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "version",
    "completeness",
    "licence_key_set",
    "orphaned",
    // The names an export writes beside the ids, for people (an import ignores them).
    "owner_name",
    "location_name",
    "last_reviewed_by_name",
];

/// What an asset's events tell of it besides its fields (see [`Asset::from_history`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct History {
    /// When its first event was recorded.
    pub created_at: DateTime<Utc>,
    /// When its last change to a field was recorded.
    pub updated_at: DateTime<Utc>,
    /// How many of its events changed a field (its creation included).
    pub version: i64,
}

/// What a new or changed asset needs from the database to be validated.
pub struct AssetContext<'a> {
    /// The keys of the classification scheme's levels.
    pub classifications: &'a [String],
    /// The custom field definitions.
    pub custom_defs: &'a [CustomFieldDef],
    /// The prefix of generated asset numbers.
    pub number_prefix: &'a str,
}

/// A validated asset input, before the server assigns id, number and times.
#[derive(Clone, Debug, PartialEq)]
pub struct AssetDraft {
    /// Given asset number, if any.
    pub asset_number: Option<String>,
    /// Kind.
    pub kind: AssetKind,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Owner.
    pub owner_id: Uuid,
    /// Importance.
    pub importance: Importance,
    /// Classification key.
    pub classification: String,
    /// Status.
    pub status: Status,
    /// Location.
    pub location_id: Option<Uuid>,
    /// Tags.
    pub tags: Vec<String>,
    /// Custom fields.
    pub custom: Map<String, Value>,
    /// External ids.
    pub external_ids: Map<String, Value>,
    /// Last review time.
    pub last_reviewed_at: Option<DateTime<Utc>>,
    /// Last reviewer.
    pub last_reviewed_by: Option<Uuid>,
    /// Next review date.
    pub next_review_at: Option<NaiveDate>,
    /// Kind-specific fields.
    pub attrs: Map<String, Value>,
}

/// Parses an asset number: 1–40 characters of letters, digits, `-`, `_`, `.` or `/`.
pub fn parse_asset_number(v: &Value) -> Result<String, String> {
    let s = value::text(v, 40)?;
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
    {
        Ok(s)
    } else {
        Err("may hold only letters, digits and - _ . /".into())
    }
}

/// Formats the `n`th generated asset number.
pub fn format_asset_number(prefix: &str, n: i64) -> String {
    format!("{prefix}-{n:06}")
}

fn parse_external_ids(v: &Value) -> Result<Map<String, Value>, String> {
    let Value::Object(o) = v else {
        return Err(format!(
            "must be an object of system → id, not {}",
            value::type_name(v)
        ));
    };
    let mut out = Map::new();
    for (k, v) in o {
        let key = k.trim();
        if key.is_empty() || key.len() > 40 {
            return Err("system names must be 1 to 40 characters".into());
        }
        let id = match v {
            Value::Number(n) => n.to_string(),
            other => value::text(other, 200).map_err(|m| format!("{key}: {m}"))?,
        };
        out.insert(key.to_string(), Value::String(id));
    }
    Ok(out)
}

impl AssetDraft {
    /// Validates a create request, naming every missing or invalid field at once.
    ///
    /// Owner and location existence are checked by the caller, which holds the database.
    pub fn parse(obj: &Map<String, Value>, ctx: &AssetContext<'_>) -> Result<Self, Problems> {
        let mut r = Input::new(obj);
        let kind = r.required("kind", AssetKind::from_json);
        // The record's `version` is read-only; on software a string `version` means the
        // software version (SPEC §2.2 names both `version`).
        let software_alias =
            kind == Some(AssetKind::Software) && obj.get("version").is_some_and(Value::is_string);
        for k in obj.keys() {
            let known =
                COMMON_FIELDS.contains(&k.as_str()) || READ_ONLY_FIELDS.contains(&k.as_str());
            if known {
                continue;
            }
            match (fields::field(k), kind) {
                (Some(def), Some(kind)) if !def.kinds.contains(&kind) => r.add(
                    k.clone(),
                    format!("is not a field of a {} asset", kind.as_str()),
                ),
                (Some(_), _) => {}
                (None, _) => r.add(k.clone(), "is not a field of an asset"),
            }
        }
        let asset_number = r.optional("asset_number", parse_asset_number);
        let name = r.required("name", |v| value::text(v, 300));
        let description = r.optional("description", |v| value::text(v, 10_000));
        let owner_id = r.required("owner_id", value::id);
        let importance = r.required("importance", Importance::from_json);
        let classification = r.required("classification", |v| {
            let k = value::text(v, 40)?;
            if ctx.classifications.contains(&k) {
                Ok(k)
            } else {
                Err(format!(
                    "{k:?} is not a level of the classification scheme ({})",
                    ctx.classifications.join(", ")
                ))
            }
        });
        let status = r.or_default("status", Status::InUse, |v| {
            let s = Status::from_json(v)?;
            if s.needs_record() {
                Err(format!(
                    "a new asset cannot start as {s}; create it, then record the transition"
                ))
            } else {
                Ok(s)
            }
        });
        let location_id = r.optional("location_id", value::id);
        let tags = r.or_default("tags", vec![], |v| value::text_list(v, 50, 60));
        let external_ids = r.or_default("external_ids", Map::new(), parse_external_ids);
        let last_reviewed_at = r.optional("last_reviewed_at", value::timestamp);
        let last_reviewed_by = r.optional("last_reviewed_by", value::id);
        let next_review_at = r.optional("next_review_at", value::date);
        let mut attrs = Map::new();
        if let Some(kind) = kind {
            for def in fields::fields_of(kind) {
                let raw = if software_alias
                    && def.name == "software_version"
                    && obj.get(def.name).is_none()
                {
                    obj.get("version")
                } else {
                    obj.get(def.name)
                };
                if let Some(v) = raw {
                    if let Some(v) = r.problems.check(def.name, fields::parse_field(def, v)) {
                        if !v.is_null() {
                            attrs.insert(def.name.to_string(), v);
                        }
                    }
                }
            }
        }
        let custom = custom::validate(
            ctx.custom_defs,
            EntityType::Asset,
            kind,
            obj.get("custom"),
            &mut r.problems,
        );
        let Input { problems, .. } = r;
        let (
            Some(kind),
            Some(asset_number),
            Some(name),
            Some(description),
            Some(owner_id),
            Some(importance),
            Some(classification),
            Some(status),
            Some(location_id),
            Some(tags),
            Some(external_ids),
            Some(last_reviewed_at),
            Some(last_reviewed_by),
            Some(next_review_at),
        ) = (
            kind,
            asset_number,
            name,
            description,
            owner_id,
            importance,
            classification,
            status,
            location_id,
            tags,
            external_ids,
            last_reviewed_at,
            last_reviewed_by,
            next_review_at,
        )
        else {
            return Err(problems);
        };
        problems.into_result(AssetDraft {
            asset_number,
            kind,
            name,
            description,
            owner_id,
            importance,
            classification,
            status,
            location_id,
            tags,
            custom,
            external_ids,
            last_reviewed_at,
            last_reviewed_by,
            next_review_at,
            attrs,
        })
    }

    /// Turns the draft into a stored asset.
    pub fn into_asset(self, id: Uuid, asset_number: String, now: DateTime<Utc>) -> Asset {
        Asset {
            id,
            asset_number,
            kind: self.kind,
            name: self.name,
            description: self.description,
            owner_id: self.owner_id,
            importance: self.importance,
            classification: self.classification,
            status: self.status,
            location_id: self.location_id,
            tags: self.tags,
            custom: self.custom,
            external_ids: self.external_ids,
            last_reviewed_at: self.last_reviewed_at,
            last_reviewed_by: self.last_reviewed_by,
            next_review_at: self.next_review_at,
            attrs: self.attrs,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }
}

/// A software asset's licence position: what was bought and what is assigned (A.5.32).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Licences {
    /// Licences purchased, when recorded.
    pub purchased: Option<i64>,
    /// Licences in use (open seat assignments), when recorded.
    pub used: Option<i64>,
}

impl Licences {
    /// How many more are used than were bought, when both are known and that is so.
    pub fn over(&self) -> Option<i64> {
        match (self.purchased, self.used) {
            (Some(p), Some(u)) if u > p => Some(u - p),
            _ => None,
        }
    }
}

/// The field that records licences purchased.
const LICENCES_PURCHASED: &str = "licences_purchased";
/// The field that records licences used.
const LICENCES_USED: &str = "licences_used";

impl Asset {
    /// The licence position its fields record.
    pub fn licences(&self) -> Licences {
        Licences {
            purchased: self.attrs.get(LICENCES_PURCHASED).and_then(Value::as_i64),
            used: self.attrs.get(LICENCES_USED).and_then(Value::as_i64),
        }
    }

    /// Records how many licences are in use.
    pub fn set_licences_used(&mut self, used: i64) {
        self.attrs.insert(LICENCES_USED.into(), Value::from(used));
    }

    /// Applies a merge-patch (RFC 7396) and re-validates the whole record.
    ///
    /// The kind cannot change, and the status changes only through a transition.
    pub fn patched(
        &self,
        patch: &Map<String, Value>,
        ctx: &AssetContext<'_>,
        now: DateTime<Utc>,
    ) -> Result<Asset, Problems> {
        let mut p = Problems::new();
        if let Some(k) = patch.get("kind") {
            if k.as_str() != Some(self.kind.as_str()) {
                p.add("kind", "cannot be changed; register a new asset instead");
            }
        }
        if let Some(s) = patch.get("status") {
            if s.as_str() != Some(self.status.as_str()) {
                p.add(
                    "status",
                    "changes only through POST /api/v1/assets/{id}/transitions",
                );
            }
        }
        if patch.get("asset_number").is_some_and(Value::is_null) {
            p.add("asset_number", "cannot be removed");
        }
        if !p.is_empty() {
            return Err(p);
        }
        let mut obj = self.to_input();
        if let Some(Value::Object(c)) = obj.get_mut("custom") {
            custom::retain_defined(c, ctx.custom_defs, EntityType::Asset);
        }
        // A status the record already holds may be one a new asset cannot start in.
        obj.remove("status");
        merge_patch(&mut obj, patch);
        obj.remove("status");
        let draft = AssetDraft::parse(&obj, ctx)?;
        let number = draft
            .asset_number
            .clone()
            .unwrap_or_else(|| self.asset_number.clone());
        let mut next = draft.into_asset(self.id, number, now);
        next.status = self.status;
        next.created_at = self.created_at;
        next.version = self.version + 1;
        // The secret is never sent back, so keep it unless the patch names it.
        if !patch.contains_key("licence_key") {
            if let Some(k) = self.attrs.get("licence_key") {
                next.attrs.insert("licence_key".into(), k.clone());
            }
        }
        Ok(next)
    }

    /// The writable fields as an input object (secrets left out).
    pub fn to_input(&self) -> Map<String, Value> {
        let mut m = self.common_json();
        for (k, v) in &self.attrs {
            if k != "licence_key" {
                m.insert(k.clone(), v.clone());
            }
        }
        m.retain(|k, v| !v.is_null() && !READ_ONLY_FIELDS.contains(&k.as_str()));
        m
    }

    fn common_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        let mut put = |k: &str, v: Value| {
            m.insert(k.to_string(), v);
        };
        put("id", Value::String(self.id.to_string()));
        put("asset_number", Value::String(self.asset_number.clone()));
        put("kind", self.kind.as_str().into());
        put("name", Value::String(self.name.clone()));
        put("description", opt_str(self.description.as_deref()));
        put("owner_id", Value::String(self.owner_id.to_string()));
        put("importance", self.importance.as_str().into());
        put("classification", Value::String(self.classification.clone()));
        put("status", self.status.as_str().into());
        put(
            "location_id",
            self.location_id
                .map_or(Value::Null, |v| Value::String(v.to_string())),
        );
        put(
            "tags",
            Value::Array(self.tags.iter().cloned().map(Value::String).collect()),
        );
        put("custom", Value::Object(self.custom.clone()));
        put("external_ids", Value::Object(self.external_ids.clone()));
        put(
            "last_reviewed_at",
            self.last_reviewed_at
                .map_or(Value::Null, |t| value::format_timestamp(&t).into()),
        );
        put(
            "last_reviewed_by",
            self.last_reviewed_by
                .map_or(Value::Null, |v| Value::String(v.to_string())),
        );
        put(
            "next_review_at",
            self.next_review_at
                .map_or(Value::Null, |d| d.to_string().into()),
        );
        put(
            "created_at",
            value::format_timestamp(&self.created_at).into(),
        );
        put(
            "updated_at",
            value::format_timestamp(&self.updated_at).into(),
        );
        put("version", self.version.into());
        m
    }

    /// The record as the API shows it: every field of its kind (null when unset), the
    /// licence key replaced by whether one is set.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = self.common_json();
        for def in fields::fields_of(self.kind) {
            if def.ty == FieldType::Secret {
                m.insert(
                    format!("{}_set", def.name),
                    Value::Bool(self.attrs.contains_key(def.name)),
                );
            } else {
                m.insert(
                    def.name.to_string(),
                    self.attrs.get(def.name).cloned().unwrap_or(Value::Null),
                );
            }
        }
        m
    }

    /// The values that history and exports may show: everything but secrets.
    pub fn audit_view(&self) -> Map<String, Value> {
        let mut m = self.common_json();
        for k in ["id", "created_at", "updated_at", "version"] {
            m.remove(k);
        }
        for (k, v) in &self.attrs {
            let secret = fields::field(k).is_some_and(|d| d.ty == FieldType::Secret);
            m.insert(
                k.clone(),
                if secret {
                    Value::String("(secret)".into())
                } else {
                    v.clone()
                },
            );
        }
        m.retain(|_, v| !v.is_null());
        m
    }

    /// The record its audit trail tells: `view` is its [`Asset::audit_view`] as replayed
    /// from its events (secrets only present or absent); the rest comes from the events
    /// themselves. Errs, naming the field, on a value the register would not hold.
    pub fn from_history(
        id: Uuid,
        view: &Map<String, Value>,
        made: History,
    ) -> Result<Asset, String> {
        let get = |k: &str| view.get(k).filter(|v| !v.is_null());
        let need = |k: &str| get(k).ok_or_else(|| format!("{k} is missing"));
        let text = |k: &str| -> Result<String, String> {
            need(k)?
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("{k} is not text"))
        };
        let named = |k: &str, e: String| format!("{k}: {e}");
        let object = |k: &str| match get(k) {
            None => Ok(Map::new()),
            Some(Value::Object(m)) => Ok(m.clone()),
            Some(_) => Err(format!("{k} is not an object")),
        };
        let kind = AssetKind::from_json(need("kind")?).map_err(|e| named("kind", e))?;
        let mut attrs = Map::new();
        for def in fields::fields_of(kind) {
            if let Some(v) = get(def.name) {
                attrs.insert(def.name.to_string(), v.clone());
            }
        }
        Ok(Asset {
            id,
            asset_number: text("asset_number")?,
            kind,
            name: text("name")?,
            description: get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
            owner_id: value::id(need("owner_id")?).map_err(|e| named("owner_id", e))?,
            importance: Importance::from_json(need("importance")?)
                .map_err(|e| named("importance", e))?,
            classification: text("classification")?,
            status: Status::from_json(need("status")?).map_err(|e| named("status", e))?,
            location_id: get("location_id")
                .map(value::id)
                .transpose()
                .map_err(|e| named("location_id", e))?,
            tags: match get("tags") {
                None => Vec::new(),
                Some(Value::Array(l)) => l
                    .iter()
                    .map(|t| {
                        t.as_str()
                            .map(str::to_string)
                            .ok_or("tags holds a value that is not text".to_string())
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => return Err("tags is not a list".into()),
            },
            custom: object("custom")?,
            external_ids: object("external_ids")?,
            last_reviewed_at: get("last_reviewed_at")
                .map(value::timestamp)
                .transpose()
                .map_err(|e| named("last_reviewed_at", e))?,
            last_reviewed_by: get("last_reviewed_by")
                .map(value::id)
                .transpose()
                .map_err(|e| named("last_reviewed_by", e))?,
            next_review_at: get("next_review_at")
                .map(value::date)
                .transpose()
                .map_err(|e| named("next_review_at", e))?,
            attrs,
            created_at: made.created_at,
            updated_at: made.updated_at,
            version: made.version,
        })
    }

    /// A string attribute.
    pub fn attr_str(&self, k: &str) -> Option<&str> {
        self.attrs.get(k).and_then(Value::as_str)
    }

    /// A boolean attribute.
    pub fn attr_bool(&self, k: &str) -> Option<bool> {
        self.attrs.get(k).and_then(Value::as_bool)
    }

    /// The record after a review by `by` at `now` (SPEC §6.6; for a device, a check):
    /// last reviewed then, by them, and the next review `interval_days` later.
    pub fn reviewed(&self, by: Uuid, now: DateTime<Utc>, interval_days: i32) -> Asset {
        let mut next = self.clone();
        next.last_reviewed_at = Some(now);
        next.last_reviewed_by = Some(by);
        next.next_review_at = now
            .date_naive()
            .checked_add_signed(chrono::TimeDelta::days(i64::from(interval_days)));
        next.version += 1;
        next.updated_at = now;
        next
    }

    /// The text the `q` search looks in.
    pub fn search_text(&self) -> String {
        let mut parts: Vec<&str> = vec![&self.asset_number, &self.name];
        if let Some(d) = &self.description {
            parts.push(d);
        }
        for k in [
            "serial_number",
            "hostname",
            "manufacturer",
            "model",
            "vendor",
            "provider",
            "software_version",
        ] {
            if let Some(v) = self.attr_str(k) {
                parts.push(v);
            }
        }
        parts.extend(self.tags.iter().map(String::as_str));
        parts.join(" ")
    }
}

fn opt_str(s: Option<&str>) -> Value {
    s.map_or(Value::Null, |s| Value::String(s.to_string()))
}

/// What an asset's record still lacks of its kind's minimum (SPEC §2.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Completeness {
    /// True when nothing is missing.
    pub complete: bool,
    /// The wire names of what is missing.
    pub missing: Vec<&'static str>,
}

/// Facts about an asset's relations that its completeness depends on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RelationFacts {
    /// A data asset is stored or processed by another asset.
    pub has_systems: bool,
    /// A software asset is deployed on another asset.
    pub has_deployment: bool,
}

fn has_value(a: &Asset, k: &str) -> bool {
    a.attrs
        .get(k)
        .is_some_and(|v| !v.is_null() && v.as_array().is_none_or(|l| !l.is_empty()))
}

/// The fields of a personal-data record of processing (GDPR Art. 30, SPEC §2.2) that a
/// data asset lacks, besides its purpose and review dates.
fn ropa_fields_missing(a: &Asset) -> Vec<&'static str> {
    let has = |k: &str| has_value(a, k);
    [
        ("controller", has("controller")),
        ("lawful_basis", has("lawful_basis")),
        ("data_subject_categories", has("data_subject_categories")),
        ("personal_data_categories", has("personal_data_categories")),
        ("recipient_categories", has("recipient_categories")),
        ("retention", has("retention") || has("retention_days")),
        ("security_measures", has("security_measures")),
    ]
    .into_iter()
    .filter(|(_, ok)| !ok)
    .map(|(k, _)| k)
    .collect()
}

/// What a data asset holding personal data lacks of its record of processing (GDPR Art.
/// 30 as SPEC §2.2 lists it): purpose, controller, lawful basis, the categories of data
/// subjects, personal data and recipients, retention, security measures and the review
/// dates.
pub fn ropa_missing(a: &Asset) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if !has_value(a, "purpose") {
        missing.push("purpose");
    }
    missing.extend(ropa_fields_missing(a));
    if a.last_reviewed_at.is_none() {
        missing.push("last_reviewed_at");
    }
    if a.next_review_at.is_none() {
        missing.push("next_review_at");
    }
    missing
}

/// Measures an asset against its kind's minimum record.
pub fn completeness(a: &Asset, rel: RelationFacts) -> Completeness {
    let mut missing: Vec<&'static str> = Vec::new();
    let has = |k: &str| has_value(a, k);
    let mut need = |cond: bool, name: &'static str| {
        if !cond {
            missing.push(name);
        }
    };
    let reviewed = (a.last_reviewed_at.is_some(), a.last_reviewed_by.is_some());
    match a.kind {
        AssetKind::Physical | AssetKind::Virtual => {
            need(has("serial_number"), "serial_number");
            // The policy asks "whether in use": any recorded status answers it, and every
            // asset has one. A device in stock, in repair or retired is not incomplete.
            need(reviewed.1, "last_reviewed_by");
            need(reviewed.0, "last_reviewed_at");
            need(has("function"), "function");
            need(has("information_description"), "information_description");
        }
        AssetKind::Data => {
            need(has("purpose"), "purpose");
            need(has("systems") || rel.has_systems, "systems");
            need(has("contains_personal_data"), "contains_personal_data");
            if a.attr_bool("contains_personal_data") == Some(true) {
                for m in ropa_fields_missing(a) {
                    need(false, m);
                }
            }
            need(reviewed.0, "last_reviewed_at");
            need(a.next_review_at.is_some(), "next_review_at");
        }
        AssetKind::Software => {
            need(has("software_version"), "software_version");
            need(has("licence_model"), "licence_model");
            let proprietary = matches!(
                a.attr_str("licence_model"),
                Some("perpetual" | "subscription")
            );
            if proprietary {
                need(has("licence_location"), "licence_location");
            }
            need(has("deployed_on") || rel.has_deployment, "deployed_on");
            need(reviewed.0, "last_reviewed_at");
            need(a.next_review_at.is_some(), "next_review_at");
        }
        AssetKind::Service => {
            need(has("provider"), "provider");
            need(has("contract_ends_at"), "contract_ends_at");
        }
        AssetKind::Intangible => {}
    }
    Completeness {
        complete: missing.is_empty(),
        missing,
    }
}

/// A typed link between two assets.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Relation {
    /// Identifier.
    pub id: Uuid,
    /// The asset the link starts from (`laptop` stores `data`).
    pub from_id: Uuid,
    /// The asset the link points to.
    pub to_id: Uuid,
    /// The type of link.
    #[serde(rename = "type")]
    pub relation_type: RelationType,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

impl RelationFacts {
    /// Derives the facts for asset `id` from relations touching it.
    pub fn from_relations<'a>(id: Uuid, rels: impl IntoIterator<Item = &'a Relation>) -> Self {
        let mut f = RelationFacts::default();
        for r in rels {
            if r.to_id == id
                && matches!(
                    r.relation_type,
                    RelationType::Stores | RelationType::Processes
                )
            {
                f.has_systems = true;
            }
            if r.from_id == id && r.relation_type == RelationType::DeployedOn {
                f.has_deployment = true;
            }
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_asset() -> Asset {
        let mut a = crate::fixtures::asset(AssetKind::Software, "internal", serde_json::json!({}));
        a.name = "Office suite".into();
        a.importance = Importance::Low;
        a
    }

    #[test]
    fn the_licence_position_is_read_and_written_in_one_place() {
        let mut a = Asset {
            attrs: serde_json::json!({"licences_purchased": 10})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            ..sample_asset()
        };
        assert_eq!(
            a.licences(),
            Licences {
                purchased: Some(10),
                used: None
            }
        );
        assert_eq!(a.licences().over(), None);
        a.set_licences_used(12);
        assert_eq!(a.licences().used, Some(12));
        assert_eq!(a.licences().over(), Some(2));
        a.set_licences_used(10);
        assert_eq!(a.licences().over(), None);
    }
    use serde_json::json;

    fn ctx() -> (Vec<String>, Vec<CustomFieldDef>) {
        (
            vec![
                "public".into(),
                "internal".into(),
                "confidential".into(),
                "restricted".into(),
            ],
            vec![],
        )
    }

    fn parse(v: Value) -> Result<AssetDraft, Problems> {
        let (c, d) = ctx();
        AssetDraft::parse(
            v.as_object().unwrap(),
            &AssetContext {
                classifications: &c,
                custom_defs: &d,
                number_prefix: "AST",
            },
        )
    }

    #[test]
    fn the_policy_minimum_is_reported_all_at_once() {
        let e = parse(json!({"kind": "physical"})).unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "owner_id", "importance", "classification"]);
        let e = parse(json!({"kind": "physical", "name": "", "owner_id": "x", "importance": "huge", "classification": "secret", "colour": 1, "purpose": "x"})).unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "colour",
            "purpose",
            "name",
            "owner_id",
            "importance",
            "classification",
        ] {
            assert!(fields.contains(&f), "{f} not in {fields:?}");
        }
    }

    #[test]
    fn a_valid_laptop_parses() {
        let owner = crate::new_id();
        let d = parse(json!({"kind": "physical", "name": "Laptop", "owner_id": owner, "importance": "high", "classification": "confidential", "serial_number": "SN1", "encrypted": true, "tags": ["a", "a"]})).unwrap();
        assert_eq!(d.status, Status::InUse);
        assert_eq!(d.tags, vec!["a"]);
        assert_eq!(d.attrs.get("encrypted"), Some(&json!(true)));
    }

    #[test]
    fn software_version_alias() {
        let d = parse(json!({"kind": "software", "name": "Office", "owner_id": crate::new_id(), "importance": "low", "classification": "internal", "version": "2024"})).unwrap();
        assert_eq!(d.attrs.get("software_version"), Some(&json!("2024")));
    }

    #[test]
    fn completeness_lists_what_is_missing() {
        let d = parse(json!({"kind": "data", "name": "HR", "owner_id": crate::new_id(), "importance": "high", "classification": "restricted", "contains_personal_data": true, "purpose": "Payroll"})).unwrap();
        let a = d.into_asset(crate::new_id(), "AST-000001".into(), crate::now());
        let c = completeness(
            &a,
            RelationFacts {
                has_systems: true,
                has_deployment: false,
            },
        );
        assert!(!c.complete);
        assert!(c.missing.contains(&"lawful_basis"));
        assert!(!c.missing.contains(&"systems"));
    }

    #[test]
    fn a_device_out_of_use_is_complete_with_its_recorded_status() {
        for status in ["in_stock", "in_repair", "retired", "in_use"] {
            let d = parse(
                json!({"kind": "physical", "name": "Laptop", "owner_id": crate::new_id(),
                "importance": "high", "classification": "internal", "status": status,
                "serial_number": "S1", "function": "Work", "information_description": "Mail",
                "last_reviewed_at": "2026-01-02T00:00:00Z", "last_reviewed_by": crate::new_id()}),
            )
            .unwrap();
            let a = d.into_asset(crate::new_id(), "AST-000001".into(), crate::now());
            let c = completeness(&a, RelationFacts::default());
            assert!(c.complete, "{status}: {:?}", c.missing);
        }
    }

    #[test]
    fn patch_keeps_what_it_does_not_name_and_refuses_kind_and_status() {
        let (c, d) = ctx();
        let ctx = AssetContext {
            classifications: &c,
            custom_defs: &d,
            number_prefix: "AST",
        };
        let a = parse(json!({"kind": "software", "name": "X", "owner_id": crate::new_id(), "importance": "low", "classification": "internal", "licence_key": "K-1"}))
            .unwrap()
            .into_asset(crate::new_id(), "AST-000001".into(), crate::now());
        let b = a
            .patched(
                json!({"name": "Y", "vendor": "V"}).as_object().unwrap(),
                &ctx,
                crate::now(),
            )
            .unwrap();
        assert_eq!(b.name, "Y");
        assert_eq!(b.version, 2);
        assert_eq!(b.attr_str("licence_key"), Some("K-1"));
        assert!(!b.to_json().contains_key("licence_key"));
        assert_eq!(b.audit_view().get("licence_key"), Some(&json!("(secret)")));
        assert!(a
            .patched(
                json!({"status": "retired"}).as_object().unwrap(),
                &ctx,
                crate::now()
            )
            .is_err());
        assert!(a
            .patched(
                json!({"kind": "data"}).as_object().unwrap(),
                &ctx,
                crate::now()
            )
            .is_err());
        let e = a
            .patched(
                json!({"name": null}).as_object().unwrap(),
                &ctx,
                crate::now(),
            )
            .unwrap_err();
        assert_eq!(e.0[0].field, "name");
    }

    #[test]
    fn a_new_asset_number_is_stored_trimmed() {
        let (c, d) = ctx();
        let ctx = AssetContext {
            classifications: &c,
            custom_defs: &d,
            number_prefix: "AST",
        };
        let a = parse(json!({"kind": "physical", "name": "X", "owner_id": crate::new_id(), "importance": "low", "classification": "internal"}))
            .unwrap()
            .into_asset(crate::new_id(), "AST-000001".into(), crate::now());
        let renumbered = a
            .patched(
                json!({"asset_number": "  HW-7 "}).as_object().unwrap(),
                &ctx,
                crate::now(),
            )
            .unwrap();
        assert_eq!(renumbered.asset_number, "HW-7");
        let same = a
            .patched(
                json!({"name": "Y"}).as_object().unwrap(),
                &ctx,
                crate::now(),
            )
            .unwrap();
        assert_eq!(same.asset_number, "AST-000001");
    }
}
