//! The OpenAPI 3.1 document, built from the same field table the domain validates with.
//!
//! A committed copy lives in `docs/openapi.json`; a test keeps it in sync, and another
//! checks that every operation listed here is served.

use serde_json::{json, Map, Value};

use custodian_domain::access::{Role, Scope, MIN_PASSWORD_CHARS};
use custodian_domain::account::{TOKEN_DEFAULT_DAYS, TOKEN_MAX_DAYS};
use custodian_domain::asset::{AssetKind, Importance, RelationType};
use custodian_domain::attestation::{AttestationStatus, OwnerResponse};
use custodian_domain::classification::{DisposalRequirement, Handling};
use custodian_domain::custody::AssignmentKind;
use custodian_domain::custom::{CustomType, EntityType};
use custodian_domain::exception::{ExceptionRule, ExceptionStatus};
use custodian_domain::fields::{FieldType, KIND_FIELDS};
use custodian_domain::lifecycle::{DisposalMethod, Status};
use custodian_domain::location::LocationKind;
use custodian_domain::offboarding::{CaseKind, CaseStatus, ItemKind, ItemStatus};
use custodian_domain::party::{DelegationTask, EmploymentType, PartyKind, PersonStatus};
use custodian_domain::policy::{AckSource, PolicyDocument, PolicyStatus};
use custodian_domain::stocktake::{ReportSection, ScanResult, StocktakeStatus};

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

fn page_of(item: &str) -> Value {
    json!({"type": "object", "required": ["items", "next_cursor"], "properties": {
        "items": {"type": "array", "items": r(item)},
        "next_cursor": {"type": ["string", "null"], "description": "Pass as `cursor` for the next page; null on the last page."}}})
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
        "Problem": {"type": "object", "description": "RFC 9457 problem document.", "required": ["type", "title", "status", "detail", "errors"], "properties": {
            "type": text(), "title": text(), "status": {"type": "integer"}, "detail": text(),
            "errors": {"type": "array", "items": {"type": "object", "required": ["field", "message"], "properties": {"field": text(), "message": text()}}},
            "request_id": {"type": "string", "description": "On a failure inside the server (5xx): the request's id, under which the server logged what failed; quote it."}}},
        "Asset": {"type": "object", "properties": asset},
        "AssetInput": {"type": "object", "required": ["kind", "name", "owner_id", "importance", "classification"], "properties": asset_common(false),
            "description": "Unknown fields are refused; read-only fields (id, version, created_at, updated_at, completeness) are ignored. A PATCH is a JSON merge patch: null clears a field."},
        "AssetPage": page_of("Asset"),
        "BulkRequest": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "maxItems": 1000, "items": r("AssetInput")}}},
        "BulkResult": {"type": "object", "required": ["created", "failed", "items"], "properties": {
            "created": {"type": "integer"}, "failed": {"type": "integer"},
            "items": {"type": "array", "items": {"type": "object", "required": ["index", "status"], "properties": {"index": {"type": "integer"}, "status": {"type": "integer"}, "asset": r("Asset"), "problem": r("Problem")}}}}},
        "DisposalRecord": {"type": "object", "required": ["method", "performed_by", "performed_at"], "properties": {
            "method": words(DisposalMethod::NAMES), "performed_by": {"type": "string", "description": "A person's id or a disposal vendor."},
            "performed_at": time(), "certificate_ref": nullable(text()), "verified_by": nullable(text()), "notes": nullable(text())}},
        "Transition": {"type": "object", "required": ["to"], "properties": {
            "to": words(Status::NAMES), "reason": text(), "notes": text(), "disposal": r("DisposalRecord"),
            "incident_ref": {"type": "string", "description": "Required for lost and stolen, but from the holder reporting their own asset: their report stands without it and a manager adds it (POST /api/v1/assets/{id}/incident)."}, "reported_at": time()}},
        "Relation": {"type": "object", "properties": {"id": id(), "type": words(RelationType::NAMES), "from_id": id(), "to_id": id(),
            "direction": words(&["outgoing", "incoming"]), "other": {"type": ["object", "null"]}, "created_at": time()}},
        "RelationInput": {"type": "object", "required": ["type", "to_id"], "properties": {"type": words(RelationType::NAMES), "to_id": id()}},
        "RelationPage": page_of("Relation"),
        "Event": {"type": "object", "properties": {"seq": {"type": "integer"}, "id": id(), "occurred_at": time(), "actor": text(), "action": text(),
            "entity_type": text(), "entity_id": text(), "changes": {"type": "object", "description": "field → {before, after}"}, "request_id": nullable(text()),
            "prev_hash": text(), "hash": text()}},
        "EventPage": page_of("Event"),
        "AuditEvents": {"type": "object", "properties": {"items": {"type": "array", "items": r("Event")}, "next_after": {"type": ["integer", "null"]}}},
        "AuditVerification": {"type": "object", "properties": {"intact": {"type": "boolean"}, "events": {"type": "integer"}, "head_seq": {"type": "integer"}, "head_hash": text(), "key_id": text(), "first_bad_event": {"type": "integer"}, "reason": text()}},
        "Party": {"type": "object", "properties": {"id": id(), "kind": words(PartyKind::NAMES), "name": text(), "email": nullable(text()),
            "employment_type": words(EmploymentType::NAMES), "status": words(PersonStatus::NAMES), "start_date": nullable(date()), "end_date": nullable(date()),
            "manager_id": nullable(id()), "holder_id": nullable(id()), "member_ids": {"type": "array", "items": id()}, "custom": {"type": "object"},
            "version": {"type": "integer"}, "created_at": time(), "updated_at": time()}},
        "PartyInput": {"type": "object", "required": ["kind", "name"], "description": "Persons need an email; teams take member_ids; roles take holder_id.", "properties": {
            "kind": words(PartyKind::NAMES), "name": text(), "email": text(), "employment_type": words(EmploymentType::NAMES), "status": words(PersonStatus::NAMES),
            "start_date": date(), "end_date": date(), "manager_id": id(), "holder_id": id(), "member_ids": {"type": "array", "items": id()}, "custom": {"type": "object"}}},
        "PartyPage": page_of("Party"),
        "Delegation": {"type": "object", "properties": {"id": id(), "owner_id": id(), "delegate_id": id(), "task": words(DelegationTask::NAMES), "asset_id": nullable(id()),
            "note": nullable(text()), "created_at": time(), "ended_at": nullable(time()), "end_reason": nullable(text())}},
        "DelegationInput": {"type": "object", "required": ["owner_id", "delegate_id", "task"], "properties": {"owner_id": id(), "delegate_id": id(), "task": words(DelegationTask::NAMES), "asset_id": id(), "note": text()}},
        "DelegationEnd": {"type": "object", "properties": {"reason": text()}},
        "DelegationPage": page_of("Delegation"),
        "Location": {"type": "object", "properties": {"id": id(), "name": text(), "kind": words(LocationKind::NAMES), "parent_id": nullable(id()), "on_premises": {"type": "boolean"},
            "address": nullable(text()), "custom": {"type": "object"}, "version": {"type": "integer"}, "created_at": time(), "updated_at": time()}},
        "LocationInput": {"type": "object", "required": ["name"], "properties": {"name": text(), "kind": words(LocationKind::NAMES), "parent_id": id(), "on_premises": {"type": "boolean"}, "address": text(), "custom": {"type": "object"}}},
        "LocationPage": page_of("Location"),
        "Classification": {"type": "object", "properties": {"key": text(), "name": text(), "rank": {"type": "integer"}, "description": nullable(text()),
            "encryption_required": {"type": "boolean"}, "off_premises": words(Handling::NAMES), "external_sharing": words(Handling::NAMES), "label_required": {"type": "boolean"},
            "disposal_method": words(DisposalRequirement::NAMES), "review_interval_days": {"type": "integer"}, "version": {"type": "integer"}, "created_at": time(), "updated_at": time()}},
        "ClassificationInput": {"type": "object", "required": ["key", "name", "rank"], "properties": {"key": text(), "name": text(), "rank": {"type": "integer", "minimum": 0}, "description": text(),
            "encryption_required": {"type": "boolean"}, "off_premises": words(Handling::NAMES), "external_sharing": words(Handling::NAMES), "label_required": {"type": "boolean"},
            "disposal_method": words(DisposalRequirement::NAMES), "review_interval_days": {"type": "integer", "minimum": 1, "maximum": 3650}}},
        "ClassificationList": page_of("Classification"),
        "CustomField": {"type": "object", "properties": {"id": id(), "entity_type": words(EntityType::NAMES), "key": text(), "label": text(), "field_type": words(CustomType::NAMES),
            "choices": strings(), "required": {"type": "boolean"}, "asset_kinds": {"type": "array", "items": words(AssetKind::NAMES)}, "description": nullable(text()),
            "version": {"type": "integer"}, "created_at": time(), "updated_at": time()}},
        "CustomFieldInput": {"type": "object", "required": ["entity_type", "key", "label", "field_type"], "properties": {"entity_type": words(EntityType::NAMES), "key": text(), "label": text(),
            "field_type": words(CustomType::NAMES), "choices": strings(), "required": {"type": "boolean"}, "asset_kinds": {"type": "array", "items": words(AssetKind::NAMES)}, "description": text()}},
        "CustomFieldList": page_of("CustomField"),
        "Reveal": {"type": "object", "required": ["field"], "properties": {"field": {"type": "string", "enum": ["licence_key"]}}},
        "Revealed": {"type": "object", "required": ["field", "value"], "properties": {"field": text(), "value": text()}},
        "TotpEnrolment": {"type": "object", "required": ["secret", "otpauth_uri"], "properties": {"secret": {"type": "string", "description": "Base32, for typing into an authenticator app."}, "otpauth_uri": text()}},
        "TotpCode": {"type": "object", "required": ["code"], "properties": {"code": {"type": "string", "pattern": "^[0-9]{6}$"}}},
        "ReviewInput": {"type": "object", "required": ["asset_id"], "additionalProperties": false, "properties": {
            "asset_id": {"type": "string", "format": "uuid"},
            "notes": {"type": ["string", "null"], "maxLength": 2000},
            "version": {"type": "integer", "description": "The asset's version last seen; a stale one gets 412"}}},
        "Review": {"type": "object", "properties": {
            "asset_id": {"type": "string", "format": "uuid"},
            "reviewed_at": {"type": "string", "format": "date-time"},
            "reviewed_by": {"type": "string", "format": "uuid"},
            "next_review_at": {"type": "string", "format": "date"},
            "notes": {"type": ["string", "null"]},
            "asset": {"$ref": "#/components/schemas/Asset"}}},
        "PolicyVersion": {"type": "object", "properties": {"id": id(), "document": words(PolicyDocument::NAMES),
            "number": {"type": "string", "description": "The version as people cite it (2.1); unique within the document."},
            "title": text(), "body": {"type": "string", "description": "Markdown."}, "effective_date": date(),
            "material": {"type": "boolean", "description": "A material change asks everyone to acknowledge again."},
            "change_summary": nullable(text()), "author_id": nullable(id()), "status": words(PolicyStatus::NAMES),
            "approved_by": nullable(id()), "approved_at": nullable(time()), "next_review_at": nullable(date()),
            "version": {"type": "integer"}, "created_at": time(), "updated_at": time()}},
        "PolicyInput": {"type": "object", "required": ["document", "number", "body", "effective_date"], "properties": {
            "document": words(PolicyDocument::NAMES), "number": text(), "title": text(), "body": text(), "effective_date": date(),
            "material": {"type": "boolean", "default": true}, "change_summary": text(), "author_id": id()},
            "description": "Only drafts change; approve one with POST /api/v1/policies/{id}/approve."},
        "IncidentRef": {"type": "object", "required": ["incident_ref"], "properties": {"incident_ref": {"type": "string", "maxLength": 200, "description": "The incident's reference in the incident process."}}},
        "PolicyApproval": {"type": "object", "properties": {"next_review_at": {"type": "string", "format": "date", "description": "At most a year after approval (the default)."},
            "confirm": {"type": "boolean", "default": false, "description": "Approve a material acceptable-use version although it blocks issuing to everyone who has not acknowledged it yet; without it, such an approval is refused with 409 saying how many people it blocks."}}},
        "PolicyList": page_of("PolicyVersion"),
        "Acknowledgement": {"type": "object", "properties": {"id": id(), "policy_id": id(), "person_id": id(), "acknowledged_at": time(),
            "source": words(AckSource::NAMES), "note": nullable(text()), "created_at": time()}},
        "AcknowledgementInput": {"type": "object", "description": "A person acknowledges the acceptable-use policy in force for themselves with {} (or its policy_id). An admin records a past acknowledgement for someone else with person_id (or email), policy_id (or number) and acknowledged_at.",
            "properties": {"policy_id": id(), "person_id": id(), "email": text(), "number": text(), "acknowledged_at": time(), "note": text()}},
        "AcknowledgementImport": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "maxItems": 5000, "items": r("AcknowledgementInput")},
            "dry_run": {"type": "boolean", "default": false}}, "description": "All or nothing: every bad item is named as items[N].field."},
        "AcknowledgementImported": {"type": "object", "properties": {"dry_run": {"type": "boolean"}, "created": {"type": "integer"}, "items": {"type": "array", "items": r("Acknowledgement")}}},
        "AcknowledgementPage": page_of("Acknowledgement"),
        "Assignment": {"type": "object", "properties": {"id": id(), "asset_id": id(), "kind": words(AssignmentKind::NAMES),
            "person_id": nullable(id()), "host_id": nullable(id()), "issued_at": time(), "issued_by": nullable(id()),
            "expected_return_at": nullable(date()), "off_premises": {"type": "boolean"}, "location_id": nullable(id()),
            "approved_by": nullable(id()), "exception_id": nullable(id()), "policy_id": nullable(id()),
            "warnings": {"type": "array", "items": text(), "description": "Rules set to warn that this assignment broke."},
            "notes": nullable(text()), "returned_at": nullable(time()), "received_by": nullable(id()), "condition": nullable(text()),
            "outcome": {"type": ["string", "null"], "enum": ["returned", "lost", "stolen", null]},
            "open": {"type": "boolean"}, "overdue": {"type": "boolean"}, "version": {"type": "integer"}, "created_at": time(), "updated_at": time()}},
        "AssignmentInput": {"type": "object", "required": ["asset_id"], "description": "Physical and virtual assets are issued to a person (one holder at a time); software seats go to a person or a host. Refused, naming the rule: a holder who has not acknowledged the acceptable-use policy in force (unless set to warn), off the premises where the classification forbids it (unless an approved exception covers the asset), without approved_by where it asks for approval, more seats than licences (when set to refuse).",
            "properties": {"asset_id": id(), "person_id": id(), "host_id": id(), "expected_return_at": date(), "off_premises": {"type": "boolean", "default": false},
                "location_id": id(), "approved_by": id(), "issued_at": time(), "notes": text()}},
        "AssignmentReturn": {"type": "object", "properties": {"condition": text(), "returned_at": time()}},
        "AssignmentPage": page_of("Assignment"),
        "PolicyException": {"type": "object", "properties": {"id": id(), "rule": words(ExceptionRule::NAMES), "asset_ids": {"type": "array", "items": id()},
            "justification": text(), "compensating_controls": text(), "requester_id": nullable(id()), "approver_id": nullable(id()),
            "decided_at": nullable(time()), "decision_notes": nullable(text()), "expires_at": date(),
            "status": words(ExceptionStatus::NAMES), "state": {"type": "string", "enum": ExceptionStatus::NAMES, "description": "The status today: an approved exception past its expiry is expired."},
            "version": {"type": "integer"}, "created_at": time(), "updated_at": time()}},
        "ExceptionInput": {"type": "object", "required": ["rule", "asset_ids", "justification", "compensating_controls", "expires_at"], "properties": {
            "rule": words(ExceptionRule::NAMES), "asset_ids": {"type": "array", "minItems": 1, "maxItems": 500, "items": id()},
            "justification": text(), "compensating_controls": text(), "expires_at": {"type": "string", "format": "date", "description": "Required; after today and at most a year away."}}},
        "ExceptionDecision": {"type": "object", "properties": {"notes": text()}},
        "ExceptionPage": page_of("PolicyException"),
        "Offboarding": {"type": "object", "description": "An offboarding (leaver) or handover (mover) case: everything the person has to settle.", "properties": {
            "id": id(), "person_id": id(), "kind": words(CaseKind::NAMES), "reason": text(), "from_party_id": nullable(id()),
            "end_date": nullable(date()), "successor_id": nullable(id()), "status": words(CaseStatus::NAMES),
            "opened_by": nullable(id()), "closed_at": nullable(time()), "closed_by": nullable(id()), "notes": nullable(text()),
            "items": {"type": "array", "items": r("OffboardingItem")},
            "open_items": {"type": "integer"}, "overdue": {"type": "boolean", "description": "An item is open past the end date."},
            "notice_controls": {"type": "array", "description": "While the person works their notice: the controls against unauthorised copying.", "items": {"type": "object", "properties": {"title": text(), "description": text()}}},
            "version": {"type": "integer"}, "created_at": time(), "updated_at": time()}},
        "OffboardingItem": {"type": "object", "properties": {"id": id(), "kind": words(ItemKind::NAMES), "asset_id": nullable(id()), "assignment_id": nullable(id()),
            "delegation_id": nullable(id()), "title": text(), "status": words(ItemStatus::NAMES), "successor_id": nullable(id()),
            "settled_at": nullable(time()), "settled_by": nullable(id()), "evidence": nullable(text()), "overdue": {"type": "boolean"}}},
        "OffboardingInput": {"type": "object", "required": ["person_id"], "properties": {"person_id": id(), "end_date": date(), "successor_id": id(), "notes": text()}},
        "OffboardingPatch": {"type": "object", "properties": {"end_date": nullable(date()), "successor_id": nullable(id()), "notes": nullable(text())}},
        "OffboardingSettlement": {"type": "object", "required": ["evidence"], "properties": {"evidence": text(),
            "successor_id": {"type": "string", "format": UUID, "description": "Hand-overs: who takes it over (defaults to the case's successor)."},
            "condition": {"type": "string", "description": "Returns: the condition it came back in (defaults to the evidence)."},
            "settled_at": time()}},
        "OffboardingClosing": {"type": "object", "properties": {"notes": text()}},
        "OffboardingPage": page_of("Offboarding"),
        "Attestation": {"type": "object", "description": "An attestation campaign: every owner confirms or corrects the record of their assets.", "properties": {
            "id": id(), "title": text(), "due_date": date(), "status": words(AttestationStatus::NAMES), "opened_by": nullable(id()),
            "closed_at": nullable(time()), "closed_by": nullable(id()),
            "owners": {"type": "array", "items": {"type": "object", "properties": {"owner_id": id(), "asset_count": {"type": "integer"},
                "status": words(OwnerResponse::NAMES), "responded_at": nullable(time()), "responded_by": nullable(id()), "note": nullable(text()),
                "disputed_asset_ids": {"type": "array", "items": id()}}}},
            "completion": {"type": "object", "properties": {"owners": {"type": "integer"}, "answered": {"type": "integer"}, "corrected": {"type": "integer"},
                "assets": {"type": "integer"}, "assets_attested": {"type": "integer"}, "percent": {"type": "number"}}},
            "version": {"type": "integer"}, "created_at": time(), "updated_at": time()}},
        "AttestationInput": {"type": "object", "required": ["title", "due_date"], "properties": {"title": text(), "due_date": date()}},
        "AttestationAnswer": {"type": "object", "required": ["owner_id"], "properties": {"owner_id": id(), "note": text(),
            "disputed_asset_ids": {"type": "array", "items": id(), "description": "Assets that are wrong or not the owner's; a note says what is wrong."}}},
        "AttestationPage": page_of("Attestation"),
        "RuleSettings": {"type": "object", "properties": {
            "acceptable_use_enforcement": {"enum": ["refuse", "warn"], "default": "refuse", "description": "Issuing to someone who has not acknowledged the acceptable-use policy in force."},
            "licence_overallocation": {"enum": ["refuse", "warn"], "default": "warn", "description": "Assigning more seats than licences purchased."}}},
        "SecuritySettings": {"type": "object", "properties": {"require_totp_for_admins": {"type": "boolean"}}},
        "SignIn": {"type": "object", "required": ["email", "password"], "properties": {"email": text(), "password": {"type": "string", "format": "password"}, "totp": {"type": "string", "description": "The second factor's 6-digit code, when the account has one."}}},
        "SignedIn": {"type": "object", "required": ["user", "csrf_token", "expires_at"], "description": "The session cookie is set; send csrf_token as X-CSRF-Token on unsafe requests.", "properties": {"user": r("User"), "csrf_token": text(), "expires_at": time()}},
        "Me": {"type": "object", "properties": {"user": r("User"), "via": words(&["session", "token"]), "scope": words(Scope::NAMES), "csrf_token": nullable(text())}},
        "PasswordChange": {"type": "object", "required": ["current_password", "new_password"], "properties": {"current_password": {"type": "string", "format": "password"}, "new_password": {"type": "string", "format": "password", "minLength": MIN_PASSWORD_CHARS}}},
        "FirstAdmin": {"type": "object", "required": ["token", "email", "name", "password"], "description": "The first admin, with the one-time token `serve` prints while no account exists.", "properties": {"token": text(), "email": text(), "name": text(), "password": {"type": "string", "format": "password", "minLength": MIN_PASSWORD_CHARS}}},
        "SetPassword": {"type": "object", "required": ["password"], "properties": {"password": {"type": "string", "format": "password", "minLength": MIN_PASSWORD_CHARS}}},
        "User": {"type": "object", "properties": {"id": id(), "email": text(), "role": words(Role::NAMES), "person_id": nullable(id()), "disabled": {"type": "boolean"},
            "has_password": {"type": "boolean"}, "totp_enabled": {"type": "boolean"}, "sso_linked": {"type": "boolean"}, "locked_until": nullable(time()),
            "setup_url": {"type": "string", "description": "Only when created: the one-time link through which its owner sets a password."},
            "version": {"type": "integer"}, "created_at": time(), "updated_at": time()}},
        "UserInput": {"type": "object", "required": ["email", "role"], "properties": {"email": text(), "role": words(Role::NAMES), "person_id": id(), "disabled": {"type": "boolean"}}},
        "UserPatch": {"type": "object", "properties": {"role": words(Role::NAMES), "person_id": nullable(id()), "disabled": {"type": "boolean"}}},
        "UserPage": page_of("User"),
        "Token": {"type": "object", "properties": {"id": id(), "user_id": id(), "name": text(), "scope": words(Scope::NAMES), "created_at": time(), "expires_at": time(),
            "last_used_at": nullable(time()), "revoked_at": nullable(time()), "token": {"type": "string", "description": "Only in the answer that creates it: the secret to send as Authorization: Bearer."}}},
        "TokenInput": {"type": "object", "properties": {"name": text(), "scope": words(Scope::NAMES), "expires_in_days": {"type": "integer", "minimum": 1, "maximum": TOKEN_MAX_DAYS, "default": TOKEN_DEFAULT_DAYS},
            "user_id": {"type": "string", "format": UUID, "description": "Admins only: issue the token for another user."}}},
        "TokenList": page_of("Token"),
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
        "Stocktake": {"type": "object", "properties": {"id": id(), "location_id": id(), "include_sublocations": {"type": "boolean"},
            "status": words(StocktakeStatus::NAMES), "started_at": time(), "started_by": nullable(id()),
            "closed_at": nullable(time()), "closed_by": nullable(id()), "notes": nullable(text()),
            "version": {"type": "integer"}, "created_at": time(), "updated_at": time()}},
        "StocktakeInput": {"type": "object", "required": ["location_id"], "properties": {"location_id": id(),
            "include_sublocations": {"type": "boolean", "default": true, "description": "Expect the assets of the places inside the location too."}, "notes": text()}},
        "StocktakePage": page_of("Stocktake"),
        "StocktakeScanInput": {"type": "object", "required": ["entry"], "properties": {"entry": {"type": "string", "maxLength": 500,
            "description": "What was scanned or typed: an asset number (any case), an asset's id, or a link to its page (what a label's QR code holds)."}}},
        "StocktakeScan": {"type": "object", "description": "201 for a new scan; 200 with the earlier scan (repeat true) when the asset was scanned in this stocktake already. A found or unexpected device is marked checked (last_reviewed_at and last_reviewed_by; its next review moves on). An entry that matches nothing is kept as unknown.",
            "properties": {"id": id(), "stocktake_id": id(), "asset_id": nullable(id()), "entered": text(), "scanned_at": time(), "scanned_by": nullable(id()),
            "result": words(ScanResult::NAMES), "registered_location_id": nullable(id()), "repeat": {"type": "boolean"},
            "asset": {"type": ["object", "null"], "properties": {"id": id(), "asset_number": text(), "name": text(), "kind": text(), "status": text(),
                "location_id": nullable(id()), "last_reviewed_at": nullable(time()), "last_reviewed_by": nullable(id())}}}},
        "StocktakeClose": {"type": "object", "properties": {"notes": text()}},
        "StocktakeLine": line,
        "StocktakeReport": report,
    })
}

/// One operation of the document: method, path, summary, request schema, answer schema, answer status.
pub struct Op {
    /// HTTP method (lower case).
    pub method: &'static str,
    /// Path under the server root.
    pub path: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// The request body's schema, if any.
    pub body: Option<&'static str>,
    /// The success answer's schema and status.
    pub ok: (u16, Option<&'static str>),
    /// Query parameters.
    pub query: &'static [&'static str],
}

const fn op(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    body: Option<&'static str>,
    ok: (u16, Option<&'static str>),
    query: &'static [&'static str],
) -> Op {
    Op {
        method,
        path,
        summary,
        body,
        ok,
        query,
    }
}

/// Every operation, in document order.
pub const OPS: &[Op] = &[
    op(
        "get",
        "/healthz",
        "The process is up",
        None,
        (200, None),
        &[],
    ),
    op(
        "get",
        "/readyz",
        "The process can serve (the database answers)",
        None,
        (200, None),
        &[],
    ),
    op(
        "get",
        "/metrics",
        "Prometheus metrics",
        None,
        (200, None),
        &[],
    ),
    op(
        "get",
        "/api/v1/openapi.json",
        "This document",
        None,
        (200, None),
        &[],
    ),
    op(
        "get",
        "/api/v1/assets",
        "List assets (filtered, keyset-paged)",
        None,
        (200, Some("AssetPage")),
        crate::api::assets::FILTERS,
    ),
    op(
        "post",
        "/api/v1/assets",
        "Register an asset",
        Some("AssetInput"),
        (201, Some("Asset")),
        &[],
    ),
    op(
        "post",
        "/api/v1/assets/bulk",
        "Register up to 1,000 assets, with a result per item",
        Some("BulkRequest"),
        (200, Some("BulkResult")),
        &[],
    ),
    op(
        "get",
        "/api/v1/assets/{id}",
        "One asset",
        None,
        (200, Some("Asset")),
        &[],
    ),
    op(
        "patch",
        "/api/v1/assets/{id}",
        "Change an asset (JSON merge patch; If-Match)",
        Some("AssetInput"),
        (200, Some("Asset")),
        &[],
    ),
    op(
        "post",
        "/api/v1/assets/{id}/transitions",
        "Move an asset along its lifecycle",
        Some("Transition"),
        (200, Some("Asset")),
        &[],
    ),
    op(
        "post",
        "/api/v1/assets/{id}/incident",
        "Add the incident reference a holder's own loss or theft report awaits (managers)",
        Some("IncidentRef"),
        (200, Some("Asset")),
        &[],
    ),
    op(
        "get",
        "/api/v1/assets/{id}/history",
        "The asset's audit events",
        None,
        (200, Some("EventPage")),
        &["limit", "cursor"],
    ),
    op(
        "get",
        "/api/v1/assets/{id}/relations",
        "The asset's links to other assets",
        None,
        (200, Some("RelationPage")),
        &[],
    ),
    op(
        "post",
        "/api/v1/assets/{id}/relations",
        "Link the asset to another",
        Some("RelationInput"),
        (201, Some("Relation")),
        &[],
    ),
    op(
        "delete",
        "/api/v1/assets/{id}/relations/{relation_id}",
        "Remove a link",
        None,
        (204, None),
        &[],
    ),
    op(
        "get",
        "/api/v1/parties",
        "List persons, teams and roles",
        None,
        (200, Some("PartyPage")),
        &["limit", "cursor", "kind", "status", "q"],
    ),
    op(
        "post",
        "/api/v1/parties",
        "Register a person, team or role",
        Some("PartyInput"),
        (201, Some("Party")),
        &[],
    ),
    op(
        "get",
        "/api/v1/parties/{id}",
        "One party",
        None,
        (200, Some("Party")),
        &[],
    ),
    op(
        "patch",
        "/api/v1/parties/{id}",
        "Change a party (If-Match)",
        Some("PartyInput"),
        (200, Some("Party")),
        &[],
    ),
    op(
        "get",
        "/api/v1/delegations",
        "List delegations",
        None,
        (200, Some("DelegationPage")),
        &["limit", "cursor", "owner_id", "delegate_id", "active"],
    ),
    op(
        "post",
        "/api/v1/delegations",
        "Delegate a routine task",
        Some("DelegationInput"),
        (201, Some("Delegation")),
        &[],
    ),
    op(
        "get",
        "/api/v1/delegations/{id}",
        "One delegation",
        None,
        (200, Some("Delegation")),
        &[],
    ),
    op(
        "post",
        "/api/v1/delegations/{id}/end",
        "End a delegation",
        Some("DelegationEnd"),
        (200, Some("Delegation")),
        &[],
    ),
    op(
        "get",
        "/api/v1/locations",
        "List places",
        None,
        (200, Some("LocationPage")),
        &["limit", "cursor"],
    ),
    op(
        "post",
        "/api/v1/locations",
        "Add a place",
        Some("LocationInput"),
        (201, Some("Location")),
        &[],
    ),
    op(
        "get",
        "/api/v1/locations/{id}",
        "One place",
        None,
        (200, Some("Location")),
        &[],
    ),
    op(
        "patch",
        "/api/v1/locations/{id}",
        "Change a place (If-Match)",
        Some("LocationInput"),
        (200, Some("Location")),
        &[],
    ),
    op(
        "get",
        "/api/v1/classifications",
        "The classification scheme, by rank",
        None,
        (200, Some("ClassificationList")),
        &[],
    ),
    op(
        "post",
        "/api/v1/classifications",
        "Add a level",
        Some("ClassificationInput"),
        (201, Some("Classification")),
        &[],
    ),
    op(
        "get",
        "/api/v1/classifications/{key}",
        "One level",
        None,
        (200, Some("Classification")),
        &[],
    ),
    op(
        "patch",
        "/api/v1/classifications/{key}",
        "Rename a level or change its handling rules (If-Match)",
        Some("ClassificationInput"),
        (200, Some("Classification")),
        &[],
    ),
    op(
        "delete",
        "/api/v1/classifications/{key}",
        "Delete a level no asset uses",
        None,
        (204, None),
        &[],
    ),
    op(
        "get",
        "/api/v1/custom_fields",
        "Every custom field definition",
        None,
        (200, Some("CustomFieldList")),
        &[],
    ),
    op(
        "post",
        "/api/v1/custom_fields",
        "Define a custom field",
        Some("CustomFieldInput"),
        (201, Some("CustomField")),
        &[],
    ),
    op(
        "get",
        "/api/v1/custom_fields/{id}",
        "One custom field definition",
        None,
        (200, Some("CustomField")),
        &[],
    ),
    op(
        "patch",
        "/api/v1/custom_fields/{id}",
        "Change a custom field definition (If-Match)",
        Some("CustomFieldInput"),
        (200, Some("CustomField")),
        &[],
    ),
    op(
        "delete",
        "/api/v1/custom_fields/{id}",
        "Delete a custom field definition",
        None,
        (204, None),
        &[],
    ),
    op(
        "post",
        "/api/v1/assets/{id}/reveal",
        "Reveal a secret field (an audited read; admins and the asset's owner)",
        Some("Reveal"),
        (200, Some("Revealed")),
        &[],
    ),
    op(
        "post",
        "/api/v1/session",
        "Sign in; sets the session cookie",
        Some("SignIn"),
        (201, Some("SignedIn")),
        &[],
    ),
    op(
        "get",
        "/api/v1/session",
        "Who is signed in, with the session's CSRF token",
        None,
        (200, Some("Me")),
        &[],
    ),
    op(
        "delete",
        "/api/v1/session",
        "Sign out",
        None,
        (204, None),
        &[],
    ),
    op(
        "post",
        "/api/v1/reviews",
        "Record a review of an asset by the signed-in person; the next review moves on by the classification's interval",
        Some("ReviewInput"),
        (201, Some("Review")),
        &[],
    ),
    op(
        "get",
        "/api/v1/session/oidc",
        "Single sign-on: redirects (303) to the identity provider; return_to is where to land afterwards",
        None,
        (303, None),
        &["return_to"],
    ),
    op(
        "get",
        "/api/v1/session/oidc/callback",
        "Single sign-on: where the identity provider sends the browser back; sets the session cookie and redirects (303)",
        None,
        (303, None),
        &["code", "state", "error", "error_description"],
    ),
    op(
        "post",
        "/api/v1/session/password",
        "Change one's password; ends every session of the account",
        Some("PasswordChange"),
        (204, None),
        &[],
    ),
    op(
        "post",
        "/api/v1/session/totp",
        "Start enrolling a second factor (TOTP): the secret and its otpauth URI",
        None,
        (201, Some("TotpEnrolment")),
        &[],
    ),
    op(
        "post",
        "/api/v1/session/totp/confirm",
        "Confirm the enrolment with a current code; sign-ins then need one",
        Some("TotpCode"),
        (200, Some("User")),
        &[],
    ),
    op(
        "get",
        "/api/v1/settings/security",
        "Security settings",
        None,
        (200, Some("SecuritySettings")),
        &[],
    ),
    op(
        "patch",
        "/api/v1/settings/security",
        "Change security settings (admins)",
        Some("SecuritySettings"),
        (200, Some("SecuritySettings")),
        &[],
    ),
    op(
        "post",
        "/api/v1/setup",
        "Create the first admin with the one-time token printed by serve",
        Some("FirstAdmin"),
        (201, Some("User")),
        &[],
    ),
    op(
        "post",
        "/api/v1/setup/{token}",
        "Set a new account's password through its one-time link",
        Some("SetPassword"),
        (200, Some("User")),
        &[],
    ),
    op(
        "get",
        "/api/v1/users",
        "List user accounts",
        None,
        (200, Some("UserPage")),
        &["limit", "cursor"],
    ),
    op(
        "post",
        "/api/v1/users",
        "Create an account; the answer carries its one-time setup link",
        Some("UserInput"),
        (201, Some("User")),
        &[],
    ),
    op(
        "get",
        "/api/v1/users/{id}",
        "One account",
        None,
        (200, Some("User")),
        &[],
    ),
    op(
        "patch",
        "/api/v1/users/{id}",
        "Change an account's role, person or disabled flag (If-Match)",
        Some("UserPatch"),
        (200, Some("User")),
        &[],
    ),
    op(
        "delete",
        "/api/v1/users/{id}/sessions",
        "End every session of an account",
        None,
        (204, None),
        &[],
    ),
    op(
        "delete",
        "/api/v1/users/{id}/totp",
        "Remove an account's second factor (a lost device); ends its sessions",
        None,
        (200, Some("User")),
        &[],
    ),
    op(
        "get",
        "/api/v1/tokens",
        "One's own tokens (admins and auditors: everyone's, or one user's)",
        None,
        (200, Some("TokenList")),
        &["user_id"],
    ),
    op(
        "post",
        "/api/v1/tokens",
        "Issue a personal API token; the secret is in this answer only",
        Some("TokenInput"),
        (201, Some("Token")),
        &[],
    ),
    op(
        "delete",
        "/api/v1/tokens/{id}",
        "Revoke a token",
        None,
        (200, Some("Token")),
        &[],
    ),
    op(
        "get",
        "/api/v1/policies",
        "Policy versions, oldest first",
        None,
        (200, Some("PolicyList")),
        &["document", "status"],
    ),
    op(
        "post",
        "/api/v1/policies",
        "Draft a policy version (admins)",
        Some("PolicyInput"),
        (201, Some("PolicyVersion")),
        &[],
    ),
    op(
        "get",
        "/api/v1/policies/{id}",
        "One policy version",
        None,
        (200, Some("PolicyVersion")),
        &[],
    ),
    op(
        "patch",
        "/api/v1/policies/{id}",
        "Change a draft (admins)",
        Some("PolicyInput"),
        (200, Some("PolicyVersion")),
        &[],
    ),
    op(
        "post",
        "/api/v1/policies/{id}/approve",
        "Approve a draft in the caller's name (admins, never its author); the version in force is superseded",
        Some("PolicyApproval"),
        (200, Some("PolicyVersion")),
        &[],
    ),
    op(
        "get",
        "/api/v1/acknowledgements",
        "Acknowledgements (members: their own)",
        None,
        (200, Some("AcknowledgementPage")),
        &["limit", "cursor", "policy_id", "person_id"],
    ),
    op(
        "post",
        "/api/v1/acknowledgements",
        "Acknowledge the acceptable-use policy in force, or (admins) record a past acknowledgement",
        Some("AcknowledgementInput"),
        (201, Some("Acknowledgement")),
        &[],
    ),
    op(
        "post",
        "/api/v1/acknowledgements/bulk",
        "Import past acknowledgements, all or nothing (admins)",
        Some("AcknowledgementImport"),
        (200, Some("AcknowledgementImported")),
        &[],
    ),
    op(
        "get",
        "/api/v1/assignments",
        "Custody and seat assignments (members: their own)",
        None,
        (200, Some("AssignmentPage")),
        &["limit", "cursor", "asset_id", "person_id", "host_id", "kind", "open", "off_premises"],
    ),
    op(
        "post",
        "/api/v1/assignments",
        "Issue an asset to a person, or assign a software seat (managers)",
        Some("AssignmentInput"),
        (201, Some("Assignment")),
        &[],
    ),
    op(
        "get",
        "/api/v1/assignments/{id}",
        "One assignment",
        None,
        (200, Some("Assignment")),
        &[],
    ),
    op(
        "post",
        "/api/v1/assignments/{id}/return",
        "Take an asset back, with its condition (managers)",
        Some("AssignmentReturn"),
        (200, Some("Assignment")),
        &[],
    ),
    op(
        "get",
        "/api/v1/exceptions",
        "Policy exceptions, newest first (members: those they asked for)",
        None,
        (200, Some("ExceptionPage")),
        &["limit", "cursor", "asset_id", "rule", "status", "requester_id"],
    ),
    op(
        "post",
        "/api/v1/exceptions",
        "Ask for a policy exception",
        Some("ExceptionInput"),
        (201, Some("PolicyException")),
        &[],
    ),
    op(
        "get",
        "/api/v1/exceptions/{id}",
        "One exception",
        None,
        (200, Some("PolicyException")),
        &[],
    ),
    op(
        "post",
        "/api/v1/exceptions/{id}/approve",
        "Approve a requested exception (admins; not one's own request)",
        Some("ExceptionDecision"),
        (200, Some("PolicyException")),
        &[],
    ),
    op(
        "post",
        "/api/v1/exceptions/{id}/reject",
        "Reject a requested exception (admins)",
        Some("ExceptionDecision"),
        (200, Some("PolicyException")),
        &[],
    ),
    op(
        "post",
        "/api/v1/exceptions/{id}/revoke",
        "Revoke an exception in force (admins)",
        Some("ExceptionDecision"),
        (200, Some("PolicyException")),
        &[],
    ),
    op(
        "get",
        "/api/v1/offboardings",
        "Offboarding and handover cases, newest first (members: their own)",
        None,
        (200, Some("OffboardingPage")),
        &["limit", "cursor", "person_id", "status", "kind"],
    ),
    op(
        "post",
        "/api/v1/offboardings",
        "Open an offboarding case by hand (managers); a person entering notice or leaving gets one by themselves",
        Some("OffboardingInput"),
        (201, Some("Offboarding")),
        &[],
    ),
    op(
        "get",
        "/api/v1/offboardings/{id}",
        "One case",
        None,
        (200, Some("Offboarding")),
        &[],
    ),
    op(
        "patch",
        "/api/v1/offboardings/{id}",
        "Change a case's end date, successor or notes (managers)",
        Some("OffboardingPatch"),
        (200, Some("Offboarding")),
        &[],
    ),
    op(
        "post",
        "/api/v1/offboardings/{id}/refresh",
        "List what has come up since the case opened (managers)",
        None,
        (200, Some("Offboarding")),
        &[],
    ),
    op(
        "post",
        "/api/v1/offboardings/{id}/items/{item_id}/settle",
        "Settle an item with evidence, doing the work where the register can (managers)",
        Some("OffboardingSettlement"),
        (200, Some("Offboarding")),
        &[],
    ),
    op(
        "post",
        "/api/v1/offboardings/{id}/close",
        "Close a case whose items are all settled (managers)",
        Some("OffboardingClosing"),
        (200, Some("Offboarding")),
        &[],
    ),
    op(
        "get",
        "/api/v1/attestations",
        "Attestation campaigns, newest first (members see the owners they answer for)",
        None,
        (200, Some("AttestationPage")),
        &["limit", "cursor", "status"],
    ),
    op(
        "post",
        "/api/v1/attestations",
        "Open a campaign asking every owner of assets (managers)",
        Some("AttestationInput"),
        (201, Some("Attestation")),
        &[],
    ),
    op(
        "get",
        "/api/v1/attestations/{id}",
        "One campaign with its completion",
        None,
        (200, Some("Attestation")),
        &[],
    ),
    op(
        "post",
        "/api/v1/attestations/{id}/answers",
        "Confirm, or correct, the record of an owner's assets",
        Some("AttestationAnswer"),
        (200, Some("Attestation")),
        &[],
    ),
    op(
        "post",
        "/api/v1/attestations/{id}/close",
        "Close a campaign (managers)",
        None,
        (200, Some("Attestation")),
        &[],
    ),
    op(
        "get",
        "/api/v1/stocktakes",
        "Stocktakes, newest first (admins, managers, auditors)",
        None,
        (200, Some("StocktakePage")),
        &["limit", "cursor", "status", "location_id"],
    ),
    op(
        "post",
        "/api/v1/stocktakes",
        "Start a stocktake at a location (admins, managers)",
        Some("StocktakeInput"),
        (201, Some("Stocktake")),
        &[],
    ),
    op(
        "get",
        "/api/v1/stocktakes/{id}",
        "One stocktake",
        None,
        (200, Some("Stocktake")),
        &[],
    ),
    op(
        "post",
        "/api/v1/stocktakes/{id}/scans",
        "Record an entry scanned or typed: found, unexpected or unknown (admins, managers)",
        Some("StocktakeScanInput"),
        (201, Some("StocktakeScan")),
        &[],
    ),
    op(
        "get",
        "/api/v1/stocktakes/{id}/report",
        "What was found, what is missing, what was unexpected and what matched nothing",
        None,
        (200, Some("StocktakeReport")),
        &["section", "limit", "cursor"],
    ),
    op(
        "post",
        "/api/v1/stocktakes/{id}/close",
        "Close a stocktake; its missing assets are fixed as they are now (admins, managers)",
        Some("StocktakeClose"),
        (200, Some("Stocktake")),
        &[],
    ),
    op(
        "get",
        "/api/v1/settings/policy",
        "How strictly the policy rules are enforced",
        None,
        (200, Some("RuleSettings")),
        &[],
    ),
    op(
        "patch",
        "/api/v1/settings/policy",
        "Change how strictly the policy rules are enforced (admins)",
        Some("RuleSettings"),
        (200, Some("RuleSettings")),
        &[],
    ),
    op(
        "get",
        "/api/v1/audit",
        "Audit events in order",
        None,
        (200, Some("AuditEvents")),
        &["after", "limit"],
    ),
    op(
        "get",
        "/api/v1/audit/verify",
        "Verify the audit hash chain",
        None,
        (200, Some("AuditVerification")),
        &[],
    ),
];

fn param_schema(name: &str) -> Value {
    match name {
        "limit" => json!({"type": "integer", "minimum": 1, "maximum": 500, "default": 50}),
        "after" => json!({"type": "integer"}),
        "kind" => json!({"type": "string"}),
        "sort" => {
            json!({"enum": custodian_store::AssetSort::ALL.iter().map(|(_, n)| *n).collect::<Vec<_>>(), "default": "registered"})
        }
        "owner_id" | "location_id" | "delegate_id" | "asset_id" | "person_id" | "host_id"
        | "policy_id" | "requester_id" => id(),
        "review_overdue" | "active" | "open" | "off_premises" => json!({"type": "boolean"}),
        _ => text(),
    }
}

/// Whether an operation takes `If-Match`.
fn versioned(o: &Op) -> bool {
    matches!(o.method, "patch" | "delete")
        || [
            "/transitions",
            "/approve",
            "/reject",
            "/revoke",
            "/return",
            "/refresh",
            "/settle",
            "/close",
        ]
        .iter()
        .any(|end| o.path.ends_with(end))
}

fn operation(o: &Op) -> Value {
    let mut params: Vec<Value> = Vec::new();
    for seg in o.path.split('/').filter(|s| s.starts_with('{')) {
        let name = seg.trim_matches(|c| c == '{' || c == '}');
        params.push(json!({"name": name, "in": "path", "required": true, "schema": text()}));
    }
    for q in o.query {
        params
            .push(json!({"name": q, "in": "query", "required": false, "schema": param_schema(q)}));
    }
    if versioned(o) {
        params.push(json!({"name": "If-Match", "in": "header", "required": false, "schema": text(), "description": "The ETag last seen; a stale one gets 412 and changes nothing."}));
    }
    let mut responses = Map::new();
    let ok = match o.ok.1 {
        Some(s) => {
            json!({"description": "Success", "content": {"application/json": {"schema": r(s)}}})
        }
        None => json!({"description": "Success"}),
    };
    responses.insert(o.ok.0.to_string(), ok);
    let problem = |d: &str| json!({"description": d, "content": {"application/problem+json": {"schema": r("Problem")}}});
    responses.insert("400".into(), problem("Malformed request"));
    if o.path.contains('{') {
        responses.insert("404".into(), problem("Not found"));
    }
    if o.body.is_some() {
        responses.insert("409".into(), problem("Conflicts with the register"));
        responses.insert("413".into(), problem("Body too large"));
        responses.insert("415".into(), problem("Body is not JSON"));
        responses.insert(
            "422".into(),
            problem("Invalid input; errors name every field"),
        );
    }
    if versioned(o) {
        responses.insert("412".into(), problem("If-Match is stale; nothing changed"));
    }
    let public = is_public(o.method, o.path);
    if !public {
        responses.insert("401".into(), problem("No valid credentials"));
        responses.insert(
            "403".into(),
            problem("Not allowed for this role or token, or a missing CSRF token"),
        );
    }
    if LIMITED.contains(&(o.method, o.path)) {
        responses.insert("429".into(), problem("Too many attempts; see Retry-After"));
    }
    let tag = o
        .path
        .trim_start_matches("/api/v1/")
        .split('/')
        .next()
        .unwrap_or("ops");
    let mut v = json!({
        "summary": o.summary,
        "operationId": format!("{}_{}", o.method, o.path.trim_start_matches('/').replace(['/', '{', '}', '.'], "_")),
        "tags": [if o.path.starts_with("/api/v1/") { tag } else { "operations" }],
        "parameters": params,
        "responses": responses,
    });
    if public {
        v["security"] = json!([]);
    }
    if let Some(b) = o.body {
        v["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": r(b)}}});
    }
    v
}

/// Operations anyone may call, without credentials.
pub const PUBLIC: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/api/v1/openapi.json"),
    ("post", "/api/v1/session"),
    ("get", "/api/v1/session/oidc"),
    ("get", "/api/v1/session/oidc/callback"),
    ("post", "/api/v1/setup"),
    ("post", "/api/v1/setup/{token}"),
];

/// Operations limited per client address.
const LIMITED: &[(&str, &str)] = &[
    ("post", "/api/v1/session"),
    ("post", "/api/v1/session/password"),
    ("get", "/api/v1/session/oidc/callback"),
    ("post", "/api/v1/setup"),
    ("post", "/api/v1/setup/{token}"),
    ("post", "/api/v1/tokens"),
    ("post", "/api/v1/session/totp/confirm"),
];

/// Whether an operation is open to anyone.
pub fn is_public(method: &str, path: &str) -> bool {
    PUBLIC.contains(&(method, path))
}

/// Every schema.
fn all_schemas() -> Value {
    let mut all = schemas();
    if let (Some(a), Value::Object(more)) = (all.as_object_mut(), stocktake_schemas()) {
        a.extend(more);
    }
    all
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for o in OPS {
        let entry = paths.entry(o.path.to_string()).or_insert_with(|| json!({}));
        entry[o.method] = operation(o);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Custodian",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The asset register for ISO/IEC 27001:2022. Lists are keyset-paged (`limit`, `cursor` → `next_cursor`); single resources carry an ETag; errors are RFC 9457 problem documents.",
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"}
        },
        "paths": paths,
        "security": [{"bearer": []}, {"session": []}],
        "components": {"schemas": all_schemas(), "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "A personal API token (`custodian token create` or POST /api/v1/tokens)."},
            "session": {"type": "apiKey", "in": "cookie", "name": "custodian_session", "description": "The session cookie set by POST /api/v1/session; unsafe requests must also send X-CSRF-Token."}}},
    })
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
    fn every_operation_is_unique_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for o in OPS {
            assert!(
                seen.insert((o.method, o.path)),
                "{} {} twice",
                o.method,
                o.path
            );
        }
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
    }
}
