//! The OpenAPI 3.1 document: generated from the routes and the types their handlers take
//! and answer (see [`crate::api::wire`]), completed here with the shapes the application
//! reads and writes as JSON objects rather than Rust types: request bodies (the services
//! read them field by field, naming every bad one), the asset (its fields are
//! [`KIND_FIELDS`]', which describe its schema too) and a few answers built from tables.
//!
//! A committed copy lives in `docs/openapi.json`; a test keeps it in sync, another that
//! every operation in it is served, and `scripts/schemathesis` checks the running server
//! against it.

use serde_json::{json, Map, Value};

use custodian_domain::access::{Role, Scope, MIN_PASSWORD_CHARS};
use custodian_domain::account::{TOKEN_DEFAULT_DAYS, TOKEN_MAX_DAYS};
use custodian_domain::asset::{AssetKind, Importance, RelationType};
use custodian_domain::classification::{DisposalRequirement, Handling};
use custodian_domain::custom::{CustomType, EntityType};
use custodian_domain::exception::ExceptionRule;
use custodian_domain::fields::{FieldType, KIND_FIELDS};
use custodian_domain::lifecycle::{DisposalMethod, Status};
use custodian_domain::location::LocationKind;
use custodian_domain::party::{DelegationTask, EmploymentType, PartyKind, PersonStatus};
use custodian_domain::policy::PolicyDocument;
use custodian_domain::stocktake::{ReportSection, ScanResult};

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn words(names: &[&str]) -> Value {
    json!({"type": "string", "enum": names})
}

fn nullable(mut v: Value) -> Value {
    if let Some(t) = v.get("type").and_then(Value::as_str).map(String::from) {
        v["type"] = json!([t, "null"]);
    }
    v
}

const UUID: &str = "uuid";

fn id() -> Value {
    json!({"type": "string", "format": UUID})
}
fn time() -> Value {
    json!({"type": "string", "format": "date-time"})
}
fn date() -> Value {
    json!({"type": "string", "format": "date"})
}
fn text() -> Value {
    json!({"type": "string"})
}
fn strings() -> Value {
    json!({"type": "array", "items": {"type": "string"}})
}

fn asset_common(read: bool) -> Map<String, Value> {
    let mut p = Map::new();
    if read {
        p.insert("id".into(), id());
        p.insert("created_at".into(), time());
        p.insert("updated_at".into(), time());
        p.insert(
            "version".into(),
            json!({"type": "integer", "description": "Record version; also the ETag."}),
        );
    }
    p.insert("asset_number".into(), json!({"type": "string", "description": "Unique tag; assigned as PREFIX-000001 when absent."}));
    p.insert("kind".into(), words(AssetKind::NAMES));
    p.insert("name".into(), text());
    p.insert("description".into(), nullable(text()));
    p.insert(
        "owner_id".into(),
        json!({"type": "string", "format": UUID, "description": "A person, team or role."}),
    );
    p.insert("importance".into(), words(Importance::NAMES));
    p.insert(
        "classification".into(),
        json!({"type": "string", "description": "A level key of the classification scheme."}),
    );
    p.insert("status".into(), words(Status::NAMES));
    p.insert("location_id".into(), nullable(id()));
    p.insert("tags".into(), strings());
    p.insert("custom".into(), json!({"type": "object", "description": "Values of custom fields, validated against their definitions."}));
    p.insert("external_ids".into(), json!({"type": "object", "additionalProperties": {"type": "string"}, "description": "Ids in other systems, by system name."}));
    p.insert("last_reviewed_at".into(), nullable(time()));
    p.insert("last_reviewed_by".into(), nullable(id()));
    p.insert("next_review_at".into(), nullable(date()));
    for f in KIND_FIELDS {
        let mut s = f.ty.json_schema();
        let kinds: Vec<&str> = f.kinds.iter().map(|k| k.as_str()).collect();
        s["description"] = json!(format!("{} ({}).", f.label, kinds.join(", ")));
        if f.ty == FieldType::Secret {
            if read {
                p.insert(format!("{}_set", f.name), json!({"type": "boolean", "description": "Whether a licence key is stored (the key itself is never returned)."}));
            } else {
                s["writeOnly"] = json!(true);
                p.insert(f.name.into(), s);
            }
        } else {
            p.insert(f.name.into(), s);
        }
    }
    p
}

fn schemas() -> Value {
    let mut asset = asset_common(true);
    asset.insert("completeness".into(), json!({"type": "object", "required": ["complete", "missing"], "properties": {"complete": {"type": "boolean"}, "missing": strings()}, "description": "What the record still lacks of its kind's minimum (SPEC §2.2)."}));
    asset.insert("disposal".into(), r("DisposalRecord"));
    json!({
        "Asset": {"type": "object", "properties": asset},
        "AssetInput": {"type": "object", "required": ["kind", "name", "owner_id", "importance", "classification"], "properties": asset_common(false),
            "description": "Unknown fields are refused; read-only fields (id, version, created_at, updated_at, completeness) are ignored. A PATCH is a JSON merge patch: null clears a field."},
        "BulkRequest": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "maxItems": 1000, "items": {"description": "An asset as POST /api/v1/assets takes it (AssetInput). Each item is checked on its own: one refused, for whatever reason (not an object, a bad field), is reported in the result and the others go on."}}}},
        "DisposalRecord": {"type": "object", "required": ["method", "performed_by", "performed_at"], "properties": {
            "method": words(DisposalMethod::NAMES), "performed_by": {"type": "string", "description": "A person's id or a disposal vendor."},
            "performed_at": time(), "certificate_ref": nullable(text()), "verified_by": nullable(text()), "notes": nullable(text())}},
        "Transition": {"type": "object", "required": ["to"], "properties": {
            "to": words(Status::NAMES), "reason": text(), "notes": text(), "disposal": r("DisposalRecord"),
            "incident_ref": {"type": "string", "description": "Required for lost and stolen, but from the holder reporting their own asset: their report stands without it and a manager adds it (POST /api/v1/assets/{id}/incident)."}, "reported_at": time()}},
        "Relation": {"type": "object", "properties": {"id": id(), "type": words(RelationType::NAMES), "from_id": id(), "to_id": id(),
            "direction": words(&["outgoing", "incoming"]), "other": {"type": ["object", "null"]}, "created_at": time()}},
        "RelationInput": {"type": "object", "required": ["type", "to_id"], "properties": {"type": words(RelationType::NAMES), "to_id": id()}},
        "PartyInput": {"type": "object", "required": ["kind", "name"], "description": "Persons need an email; teams take member_ids; roles take holder_id.", "properties": {
            "kind": words(PartyKind::NAMES), "name": text(), "email": text(), "employment_type": words(EmploymentType::NAMES), "status": words(PersonStatus::NAMES),
            "start_date": date(), "end_date": date(), "manager_id": id(), "holder_id": id(), "member_ids": {"type": "array", "items": id()}, "custom": {"type": "object"}}},
        "DelegationInput": {"type": "object", "required": ["owner_id", "delegate_id", "task"], "properties": {"owner_id": id(), "delegate_id": id(), "task": words(DelegationTask::NAMES), "asset_id": id(), "note": text()}},
        "DelegationEnd": {"type": "object", "properties": {"reason": nullable(text())}},
        "LocationInput": {"type": "object", "required": ["name"], "properties": {"name": text(), "kind": words(LocationKind::NAMES), "parent_id": id(), "on_premises": {"type": "boolean"}, "address": text(), "custom": {"type": "object"}}},
        "ClassificationInput": {"type": "object", "required": ["key", "name", "rank"], "properties": {"key": text(), "name": text(), "rank": {"type": "integer", "minimum": 0}, "description": text(),
            "encryption_required": {"type": "boolean"}, "off_premises": words(Handling::NAMES), "external_sharing": words(Handling::NAMES), "label_required": {"type": "boolean"},
            "disposal_method": words(DisposalRequirement::NAMES), "review_interval_days": {"type": "integer", "minimum": 1, "maximum": 3650}}},
        "CustomFieldInput": {"type": "object", "required": ["entity_type", "key", "label", "field_type"], "properties": {"entity_type": words(EntityType::NAMES), "key": text(), "label": text(),
            "field_type": words(CustomType::NAMES), "choices": strings(), "required": {"type": "boolean"}, "asset_kinds": {"type": "array", "items": words(AssetKind::NAMES)}, "description": text()}},
        "Reveal": {"type": "object", "required": ["field"], "properties": {"field": {"type": "string", "enum": ["licence_key"]}}},
        "Revealed": {"type": "object", "required": ["field", "value"], "properties": {"field": text(), "value": text()}},
        "TotpCode": {"type": "object", "required": ["code"], "properties": {"code": {"type": "string", "pattern": "^[0-9]{6}$"}}},
        "ReviewInput": {"type": "object", "required": ["asset_id"], "additionalProperties": false, "properties": {
            "asset_id": {"type": "string", "format": "uuid"},
            "notes": {"type": ["string", "null"], "maxLength": 2000},
            "version": {"type": "integer", "description": "The asset's version last seen; a stale one gets 412"}}},
        "PolicyInput": {"type": "object", "required": ["document", "number", "body", "effective_date"], "properties": {
            "document": words(PolicyDocument::NAMES), "number": text(), "title": text(), "body": text(), "effective_date": date(),
            "material": {"type": "boolean", "default": true}, "change_summary": text(), "author_id": id()},
            "description": "Only drafts change; approve one with POST /api/v1/policies/{id}/approve."},
        "PolicyDraftInput": {"type": "object", "required": ["document"], "additionalProperties": false,
            "description": "Writes a draft version of the Asset Management Policy from the register's own settings: the asset kinds and each kind's minimum record, the classification levels and their handling rules, the roles that own assets, the lifecycle and disposal methods, and how the custody, seat and exception rules are enforced. Each clause taken from a setting says so in the draft's Markdown source. It is a draft like any other: edit it, then have another admin approve it.",
            "properties": {"document": {"type": "string", "enum": ["asset_management"]}, "organisation": {"type": "string", "minLength": 1, "maxLength": 200, "description": "The organisation's name, as the policy names it (default: the organisation)."}}},
        "PolicyReviewInput": {"type": "object", "additionalProperties": false, "properties": {"notes": {"type": ["string", "null"], "maxLength": 2000}},
            "description": "A review of the version in force that changes nothing: who and when are the caller and now; its next review moves on a year. A version that needs changing gets a new draft instead."},
        "IncidentRef": {"type": "object", "required": ["incident_ref"], "properties": {"incident_ref": {"type": "string", "maxLength": 200, "description": "The incident's reference in the incident process."}}},
        "PolicyApproval": {"type": "object", "properties": {"next_review_at": {"type": "string", "format": "date", "description": "At most a year after approval (the default)."},
            "confirm": {"type": "boolean", "default": false, "description": "Approve a material acceptable-use version although it blocks issuing to everyone who has not acknowledged it yet; without it, such an approval is refused with 409 saying how many people it blocks."}}},
        "AcknowledgementInput": {"type": "object", "description": "A person acknowledges the acceptable-use policy in force for themselves with {} (or its policy_id). An admin records a past acknowledgement for someone else with person_id (or email), policy_id (or number) and acknowledged_at.",
            "properties": {"policy_id": id(), "person_id": id(), "email": text(), "number": text(), "acknowledged_at": time(), "note": text()}},
        "AcknowledgementImport": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "maxItems": 5000, "items": r("AcknowledgementInput")},
            "dry_run": {"type": "boolean", "default": false}}, "description": "All or nothing: every bad item is named as items[N].field."},
        "AssignmentInput": {"type": "object", "required": ["asset_id"], "description": "Physical and virtual assets are issued to a person (one holder at a time); software seats go to a person or a host. Refused, naming the rule: a holder who has not acknowledged the acceptable-use policy in force (unless set to warn), off the premises where the classification forbids it (unless an approved exception covers the asset), without approved_by where it asks for approval, more seats than licences (when set to refuse).",
            "properties": {"asset_id": id(), "person_id": id(), "host_id": id(), "expected_return_at": date(), "off_premises": {"type": "boolean", "default": false},
                "location_id": id(), "approved_by": id(), "issued_at": time(), "notes": text()}},
        "AssignmentReturn": {"type": "object", "properties": {"condition": text(), "returned_at": time()}},
        "ExceptionInput": {"type": "object", "required": ["rule", "asset_ids", "justification", "compensating_controls", "expires_at"], "properties": {
            "rule": words(ExceptionRule::NAMES), "asset_ids": {"type": "array", "minItems": 1, "maxItems": 500, "items": id()},
            "justification": text(), "compensating_controls": text(), "expires_at": {"type": "string", "format": "date", "description": "Required; after today and at most a year away."}}},
        "ExceptionDecision": {"type": "object", "properties": {"notes": text()}},
        "OffboardingInput": {"type": "object", "required": ["person_id"], "properties": {"person_id": id(), "end_date": date(), "successor_id": id(), "notes": text()}},
        "OffboardingPatch": {"type": "object", "properties": {"end_date": nullable(date()), "successor_id": nullable(id()), "notes": nullable(text())}},
        "OffboardingSettlement": {"type": "object", "required": ["evidence"], "properties": {"evidence": text(),
            "successor_id": {"type": "string", "format": UUID, "description": "Hand-overs: who takes it over (defaults to the case's successor)."},
            "condition": {"type": "string", "description": "Returns: the condition it came back in (defaults to the evidence)."},
            "settled_at": time()}},
        "OffboardingClosing": {"type": "object", "properties": {"notes": text()}},
        "AttestationInput": {"type": "object", "required": ["title", "due_date"], "properties": {"title": text(), "due_date": date()}},
        "AttestationAnswer": {"type": "object", "required": ["owner_id"], "properties": {"owner_id": id(), "note": text(),
            "disputed_asset_ids": {"type": "array", "items": id(), "description": "Assets that are wrong or not the owner's; a note says what is wrong."}}},
        "SampleInput": {"type": "object", "required": ["population"], "additionalProperties": false,
            "description": "The population is the register, now or as it stood at as_at, narrowed by the asset list's record filters. The same seed, population and size draw the same sample; without a seed one is chosen and given in the answer.",
            "properties": {"population": {"type": "string", "enum": ["assets"]}, "as_at": time(),
                "size": {"oneOf": [{"type": "integer", "minimum": 1, "maximum": custodian_domain::sample::MAX_SIZE}, {"type": "string", "enum": ["auto"]}], "default": "auto",
                    "description": "A number, or auto: under 6 records, all; 6 to 50, 5; 51 to 250, 10 % (rounded up); over 250, 25."},
                "seed": {"type": "string", "minLength": 1, "maxLength": 200},
                "kind": words(AssetKind::NAMES), "status": words(Status::NAMES), "owner_id": id(), "classification": text(),
                "importance": words(Importance::NAMES), "tag": text(), "location_id": id()}},
        "SecuritySettingsPatch": {"type": "object", "properties": {"require_totp_for_admins": {"type": "boolean"}}},
        "SignIn": {"type": "object", "required": ["email", "password"], "properties": {"email": text(), "password": {"type": "string", "format": "password"}, "totp": {"type": "string", "description": "The second factor's 6-digit code, when the account has one."}}},
        "PasswordChange": {"type": "object", "required": ["current_password", "new_password"], "properties": {"current_password": {"type": "string", "format": "password"}, "new_password": {"type": "string", "format": "password", "minLength": MIN_PASSWORD_CHARS}}},
        "FirstAdmin": {"type": "object", "required": ["token", "email", "name", "password"], "description": "The first admin, with the one-time token `serve` prints while no account exists.", "properties": {"token": text(), "email": text(), "name": text(), "password": {"type": "string", "format": "password", "minLength": MIN_PASSWORD_CHARS}}},
        "SetPassword": {"type": "object", "required": ["password"], "properties": {"password": {"type": "string", "format": "password", "minLength": MIN_PASSWORD_CHARS}}},
        "UserInput": {"type": "object", "required": ["email", "role"], "properties": {"email": text(), "role": words(Role::NAMES), "person_id": id(), "disabled": {"type": "boolean"}}},
        "UserPatch": {"type": "object", "properties": {"role": words(Role::NAMES), "person_id": nullable(id()), "disabled": {"type": "boolean"}}},
        "TokenInput": {"type": "object", "properties": {"name": text(), "scope": words(Scope::NAMES), "expires_in_days": {"type": "integer", "minimum": 1, "maximum": TOKEN_MAX_DAYS, "default": TOKEN_DEFAULT_DAYS},
            "user_id": {"type": "string", "format": UUID, "description": "Admins only: issue the token for another user."}}},
    })
}

/// The stocktake schemas.
fn stocktake_schemas() -> Value {
    let line = json!({"type": "object", "properties": {
        "asset_id": nullable(id()), "asset_number": nullable(text()), "name": nullable(text()),
        "kind": {"type": ["string", "null"]}, "status": {"type": ["string", "null"]},
        "location_id": nullable(id()), "scan_id": nullable(id()), "entered": nullable(text()),
        "scanned_at": nullable(time()), "scanned_by": nullable(id()),
        "registered_location_id": {"type": ["string", "null"], "format": UUID, "description": "Where the register had the asset when it was scanned."}}});
    let mut report = json!({"type": "object", "description": "The counts, and a page of each section (or, with section, of that one). Missing are the assets at the location (and the places inside it) that are not disposed, lost or stolen and were not scanned: as of now while the stocktake is open, as fixed at closing once it is closed.",
        "properties": {"stocktake": r("Stocktake"),
            "counts": {"type": "object", "properties": {"expected": {"type": "integer"}, "found": {"type": "integer"}, "missing": {"type": "integer"}, "unexpected": {"type": "integer"}, "unknown": {"type": "integer"}}},
            "next_cursor": {"type": "object", "description": "Per section with more lines: the cursor of its next page (ask with section and cursor).", "additionalProperties": text()}}});
    for s in ReportSection::NAMES {
        report["properties"][*s] = json!({"type": "array", "items": r("StocktakeLine")});
    }
    json!({
        "StocktakeInput": {"type": "object", "required": ["location_id"], "properties": {"location_id": id(),
            "include_sublocations": {"type": ["boolean", "null"], "default": true, "description": "Expect the assets of the places inside the location too (null: the default)."}, "notes": nullable(text())}},
        "StocktakeScanInput": {"type": "object", "required": ["entry"], "properties": {"entry": {"type": "string", "maxLength": 500,
            "description": "What was scanned or typed: an asset number (any case), an asset's id, or a link to its page (what a label's QR code holds)."}}},
        "StocktakeScan": {"type": "object", "description": "201 for a new scan; 200 with the earlier scan (repeat true) when the asset was scanned in this stocktake already. A found or unexpected device is marked checked (last_reviewed_at and last_reviewed_by; its next review moves on). An entry that matches nothing is kept as unknown.",
            "properties": {"id": id(), "stocktake_id": id(), "asset_id": nullable(id()), "entered": text(), "scanned_at": time(), "scanned_by": nullable(id()),
            "result": words(ScanResult::NAMES), "registered_location_id": nullable(id()), "repeat": {"type": "boolean"},
            "asset": {"type": ["object", "null"], "properties": {"id": id(), "asset_number": text(), "name": text(), "kind": text(), "status": text(),
                "location_id": nullable(id()), "last_reviewed_at": nullable(time()), "last_reviewed_by": nullable(id())}}}},
        "StocktakeClose": {"type": "object", "properties": {"notes": nullable(text())}},
        "StocktakeLine": line,
        "StocktakeReport": report,
    })
}

/// Every schema.
fn all_schemas() -> Value {
    let mut all = schemas();
    if let (Some(a), Value::Object(more)) = (all.as_object_mut(), stocktake_schemas()) {
        a.extend(more);
    }
    all
}

/// Every schema written by hand, by name.
fn hand_schemas() -> &'static Map<String, Value> {
    static ALL: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| match all_schemas() {
        Value::Object(m) => m,
        _ => Map::new(),
    })
}

/// Declares marker types for schemas still written by hand: each describes itself with
/// its entry in [`schemas`].
macro_rules! hand {
    ($($name:ident),+ $(,)?) => {
        $(
            #[doc = concat!("The `", stringify!($name), "` schema.")]
            pub struct $name;
            impl schemars::JsonSchema for $name {
                fn schema_name() -> std::borrow::Cow<'static, str> {
                    stringify!($name).into()
                }
                fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                    hand_schemas()
                        .get(stringify!($name))
                        .cloned()
                        .and_then(|v| schemars::Schema::try_from(v).ok())
                        .unwrap_or_default()
                }
            }
        )+
    };
}

/// The shapes still written by hand.
pub mod shapes {
    use super::*;
    hand!(
        AcknowledgementImport,
        AcknowledgementInput,
        Asset,
        AssetInput,
        AssignmentInput,
        AssignmentReturn,
        AttestationAnswer,
        AttestationInput,
        BulkRequest,
        ClassificationInput,
        CustomFieldInput,
        DelegationEnd,
        DelegationInput,
        ExceptionDecision,
        ExceptionInput,
        FirstAdmin,
        IncidentRef,
        LocationInput,
        OffboardingClosing,
        OffboardingInput,
        OffboardingPatch,
        OffboardingSettlement,
        PartyInput,
        PasswordChange,
        PolicyApproval,
        PolicyDraftInput,
        PolicyInput,
        PolicyReviewInput,
        Relation,
        RelationInput,
        Reveal,
        Revealed,
        ReviewInput,
        SampleInput,
        SecuritySettingsPatch,
        SetPassword,
        SignIn,
        StocktakeClose,
        StocktakeInput,
        StocktakeReport,
        StocktakeScan,
        StocktakeScanInput,
        TokenInput,
        TotpCode,
        Transition,
        UserInput,
        UserPatch,
    );
}

/// The whole document, generated from the routes (see [`crate::api::wire`]).
pub fn document() -> Value {
    crate::api::documented().1
}

/// Builds the document from the routes' own description: the schemas the handlers'
/// types generate, then the hand-written ones they refer to.
pub(crate) fn complete(api: aide::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(&api).unwrap_or(Value::Null);
    let problem = json!({"$ref": "#/components/schemas/Problem"});
    crate::api::wire::finish(&mut doc, problem);
    doc["info"] = json!({
        "title": "Custodian",
        "version": env!("CARGO_PKG_VERSION"),
        "description": "The asset register for ISO/IEC 27001:2022. Lists are keyset-paged (`limit`, `cursor` → `next_cursor`); single resources carry an ETag; errors are RFC 9457 problem documents. Request bodies with properties an operation does not name are refused (422).",
        "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"}
    });
    doc["security"] = json!([{"bearer": []}, {"session": []}]);
    let components = doc
        .as_object_mut()
        .map(|d| d.entry("components").or_insert_with(|| json!({})));
    if let Some(c) = components {
        c["securitySchemes"] = json!({
            "bearer": {"type": "http", "scheme": "bearer", "description": "A personal API token (`custodian token create` or POST /api/v1/tokens)."},
            "session": {"type": "apiKey", "in": "cookie", "name": "custodian_session", "description": "The session cookie set by POST /api/v1/session; unsafe requests must also send X-CSRF-Token."}});
        let schemas = c
            .as_object_mut()
            .map(|c| c.entry("schemas").or_insert_with(|| json!({})));
        if let Some(Value::Object(schemas)) = schemas {
            // Hand-written schemas refer to each other by name: bring in every one
            // referred to, until none is missing.
            loop {
                let text = Value::Object(schemas.clone()).to_string();
                let missing: Vec<String> = text
                    .split("#/components/schemas/")
                    .skip(1)
                    .filter_map(|s| s.split('"').next())
                    .filter(|n| !schemas.contains_key(*n))
                    .map(String::from)
                    .collect();
                let mut added = false;
                for n in missing {
                    if let Some(s) = hand_schemas().get(&n) {
                        schemas.insert(n, s.clone());
                        added = true;
                    }
                }
                if !added {
                    break;
                }
            }
            let mut sorted: Vec<(String, Value)> = std::mem::take(schemas).into_iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            schemas.extend(sorted);
        }
    }
    close_bodies(&mut doc);
    doc
}

/// Every request body's schema refuses properties it does not name.
fn close_bodies(doc: &mut Value) {
    let mut names = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for item in paths.values().filter_map(Value::as_object) {
            for op in item.values() {
                if let Some(r) = op
                    .pointer("/requestBody/content/application~1json/schema/$ref")
                    .and_then(Value::as_str)
                {
                    names.push(r.trim_start_matches("#/components/schemas/").to_string());
                }
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    while let Some(n) = names.pop() {
        if !seen.insert(n.clone()) {
            continue;
        }
        let Some(s) = doc.pointer_mut(&format!("/components/schemas/{n}")) else {
            continue;
        };
        // Settings are always set: null is refused there. Elsewhere an optional property
        // given null is read as left out (in a merge patch: cleared).
        let nulls = !matches!(n.as_str(), "RuleSettingsPatch" | "SecuritySettingsPatch");
        close(s, nulls, &mut names);
    }
}

/// Closes an object schema and the object schemas inside it; names the schemas it refers
/// to, to be closed in their turn.
fn close(s: &mut Value, nulls: bool, refs: &mut Vec<String>) {
    let Some(o) = s.as_object_mut() else {
        return;
    };
    if let Some(Value::String(r)) = o.get("$ref") {
        refs.push(r.trim_start_matches("#/components/schemas/").to_string());
    }
    let required: Vec<String> = o
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    if let Some(Value::Object(props)) = o.get_mut("properties") {
        for (k, v) in props.iter_mut() {
            close(v, nulls, refs);
            if nulls && !required.contains(k) {
                *v = or_null(std::mem::take(v));
            }
        }
        o.entry("additionalProperties")
            .or_insert(Value::Bool(false));
    }
    if let Some(items) = o.get_mut("items") {
        close(items, nulls, refs);
    }
    for k in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(a)) = o.get_mut(k) {
            a.iter_mut().for_each(|v| close(v, nulls, refs));
        }
    }
}

/// A schema that also takes null.
fn or_null(mut v: Value) -> Value {
    let takes_null = |v: &Value| match v.get("type") {
        Some(Value::String(t)) => t == "null",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "null"),
        _ => false,
    };
    if takes_null(&v)
        || v.get("anyOf")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(takes_null))
    {
        return v;
    }
    let plain_type = v.get("type").and_then(Value::as_str).map(String::from);
    match plain_type {
        Some(t) if v.get("enum").is_none() => {
            v["type"] = json!([t, "null"]);
            v
        }
        _ => {
            let description = v.as_object_mut().and_then(|o| o.remove("description"));
            let mut out = json!({"anyOf": [v, {"type": "null"}]});
            if let Some(d) = description {
                out["description"] = d;
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/openapi.json` is the committed copy; `UPDATE_OPENAPI=1` rewrites it.
    #[test]
    fn the_committed_document_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
        let want = format!(
            "{}\n",
            serde_json::to_string_pretty(&document()).expect("serialise")
        );
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(path, &want).expect("write docs/openapi.json");
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            have == want,
            "docs/openapi.json is out of date: run UPDATE_OPENAPI=1 cargo test -p custodian-web"
        );
    }

    #[test]
    fn every_reference_resolves_and_every_operation_says_what_it_refuses() {
        let doc = document();
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        let text = doc.to_string();
        for name in text
            .split("#/components/schemas/")
            .skip(1)
            .map(|s| s.split('"').next().unwrap_or(""))
        {
            assert!(schemas.contains_key(name), "missing schema {name}");
        }
        assert!(
            !text.contains("x-custodian-"),
            "a mark was left in the document"
        );
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("operations") {
                let responses = op["responses"].as_object().expect("responses");
                assert!(
                    responses
                        .keys()
                        .any(|s| s.starts_with('2') || s.starts_with('3')),
                    "{method} {path} documents no success"
                );
                let public = op.get("security") == Some(&serde_json::json!([]));
                assert!(
                    public || responses.contains_key("401") && responses.contains_key("403"),
                    "{method} {path} needs credentials: 401 and 403 are documented"
                );
                if let Some(body) = op.pointer("/requestBody/content/application~1json/schema/$ref")
                {
                    let name = body
                        .as_str()
                        .unwrap_or("")
                        .trim_start_matches("#/components/schemas/");
                    assert_eq!(
                        schemas[name]["additionalProperties"],
                        serde_json::json!(false),
                        "{method} {path}: the body {name} must refuse unknown properties"
                    );
                }
            }
        }
    }
}
