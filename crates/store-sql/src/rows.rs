//! Mapping between rows and domain records, and the column lists queries share.

use custodian_domain::access::{Role, Scope};
use custodian_domain::account::{ApiToken, Session, User};
use custodian_domain::asset::{Asset, AssetKind, Importance, Relation, RelationType};
use custodian_domain::attestation::{
    Attestation, AttestationOwner, AttestationStatus, OwnerResponse,
};
use custodian_domain::audit::Event;
use custodian_domain::classification::{Classification, DisposalRequirement, Handling};
use custodian_domain::custody::{Assignment, AssignmentKind, AssignmentOutcome};
use custodian_domain::custom::{CustomFieldDef, CustomType, EntityType};
use custodian_domain::exception::{ExceptionRule, ExceptionStatus, PolicyException};
use custodian_domain::lifecycle::{DisposalMethod, DisposalRecord, IncidentReport, Status};
use custodian_domain::location::{Location, LocationKind};
use custodian_domain::offboarding::{
    CaseItem, CaseKind, CaseStatus, ItemKind, ItemStatus, Offboarding,
};
use custodian_domain::party::{
    Delegation, DelegationTask, EmploymentType, Party, PartyKind, PersonStatus,
};
use custodian_domain::policy::{
    AckSource, Acknowledgement, PolicyDocument, PolicyStatus, PolicyVersion,
};
use custodian_domain::stocktake::{ScanResult, Stocktake, StocktakeScan, StocktakeStatus};
use custodian_store::{Result, StoreError};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::db::{Row, Sql};

pub const ASSET_COLS: &str = "a.seq, a.id, a.asset_number, a.kind, a.name, a.description, a.owner_id, a.importance, a.classification, a.status, a.location_id, a.tags, a.custom, a.external_ids, a.last_reviewed_at, a.last_reviewed_by, a.next_review_at, a.attrs, a.version, a.created_at, a.updated_at";
pub const PARTY_COLS: &str = "p.seq, p.id, p.kind, p.name, p.email, p.employment_type, p.status, p.start_date, p.end_date, p.manager_id, p.holder_id, p.custom, p.version, p.created_at, p.updated_at";
pub const EVENT_COLS: &str = "seq, id, occurred_at, actor, action, entity_type, entity_id, changes, request_id, prev_hash, hash";
pub const LOCATION_COLS: &str =
    "seq, id, name, kind, parent_id, on_premises, address, custom, version, created_at, updated_at";
pub const CLASSIFICATION_COLS: &str = "key, name, rank, description, encryption_required, off_premises, external_sharing, label_required, disposal_method, review_interval_days, version, created_at, updated_at";
pub const CUSTOM_FIELD_COLS: &str = "id, entity_type, key, label, field_type, choices, required, asset_kinds, description, version, created_at, updated_at";
pub const DELEGATION_COLS: &str =
    "seq, id, owner_id, delegate_id, task, asset_id, note, created_at, ended_at, end_reason";
pub const RELATION_COLS: &str = "id, from_id, to_id, type, created_at";

fn word<T>(row: &Row, col: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let s: String = row.get(col)?;
    parse(&s).ok_or_else(|| StoreError::Other(format!("column {col} holds an unknown value {s:?}")))
}

fn opt_word<T>(row: &Row, col: &str, parse: fn(&str) -> Option<T>) -> Result<Option<T>> {
    match row.get::<Option<String>>(col)? {
        None => Ok(None),
        Some(s) => parse(&s)
            .map(Some)
            .ok_or_else(|| StoreError::Other(format!("column {col} holds an unknown value {s:?}"))),
    }
}

fn object(row: &Row, col: &str) -> Result<Map<String, Value>> {
    match row.json(col)? {
        Value::Object(m) => Ok(m),
        _ => Ok(Map::new()),
    }
}

fn strings(row: &Row, col: &str) -> Result<Vec<String>> {
    Ok(match row.json(col)? {
        Value::Array(a) => a
            .into_iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        _ => vec![],
    })
}

pub fn asset(row: &Row) -> Result<(i64, Asset)> {
    Ok((
        row.get("seq")?,
        Asset {
            id: row.get("id")?,
            asset_number: row.get("asset_number")?,
            kind: word(row, "kind", AssetKind::parse)?,
            name: row.get("name")?,
            description: row.get("description")?,
            owner_id: row.get("owner_id")?,
            importance: word(row, "importance", Importance::parse)?,
            classification: row.get("classification")?,
            status: word(row, "status", Status::parse)?,
            location_id: row.get("location_id")?,
            tags: strings(row, "tags")?,
            custom: object(row, "custom")?,
            external_ids: object(row, "external_ids")?,
            last_reviewed_at: row.get("last_reviewed_at")?,
            last_reviewed_by: row.get("last_reviewed_by")?,
            next_review_at: row.get("next_review_at")?,
            attrs: object(row, "attrs")?,
            version: row.get("version")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        },
    ))
}

/// The lower-case words the text search indexes.
pub fn search_words(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The asset columns written on insert and update, in order, with their values.
pub fn asset_values(a: &Asset) -> Vec<(&'static str, crate::db::Arg)> {
    let tags = Value::Array(a.tags.iter().cloned().map(Value::String).collect());
    vec![
        ("id", a.id.into()),
        ("asset_number", a.asset_number.clone().into()),
        ("kind", a.kind.as_str().into()),
        ("name", a.name.clone().into()),
        ("description", a.description.clone().into()),
        ("owner_id", a.owner_id.into()),
        ("importance", a.importance.as_str().into()),
        ("classification", a.classification.clone().into()),
        ("status", a.status.as_str().into()),
        ("location_id", a.location_id.into()),
        ("tags", tags.into()),
        ("custom", Value::Object(a.custom.clone()).into()),
        ("external_ids", Value::Object(a.external_ids.clone()).into()),
        ("last_reviewed_at", a.last_reviewed_at.into()),
        ("last_reviewed_by", a.last_reviewed_by.into()),
        ("next_review_at", a.next_review_at.into()),
        (
            "serial_number",
            a.attr_str("serial_number").map(String::from).into(),
        ),
        ("attrs", Value::Object(a.attrs.clone()).into()),
        ("search_text", search_words(&a.search_text()).into()),
        ("version", a.version.into()),
        ("created_at", a.created_at.into()),
        ("updated_at", a.updated_at.into()),
    ]
}

pub fn party(row: &Row) -> Result<(i64, Party)> {
    Ok((
        row.get("seq")?,
        Party {
            id: row.get("id")?,
            kind: word(row, "kind", PartyKind::parse)?,
            name: row.get("name")?,
            email: row.get("email")?,
            employment_type: opt_word(row, "employment_type", EmploymentType::parse)?,
            status: opt_word(row, "status", PersonStatus::parse)?,
            start_date: row.get("start_date")?,
            end_date: row.get("end_date")?,
            manager_id: row.get("manager_id")?,
            holder_id: row.get("holder_id")?,
            member_ids: vec![],
            custom: object(row, "custom")?,
            version: row.get("version")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        },
    ))
}

pub fn event(row: &Row) -> Result<Event> {
    Ok(Event {
        seq: row.get("seq")?,
        id: row.get("id")?,
        occurred_at: row.get("occurred_at")?,
        actor: row.get("actor")?,
        action: row.get("action")?,
        entity_type: row.get("entity_type")?,
        entity_id: row.get("entity_id")?,
        changes: row.get("changes")?,
        request_id: row.get("request_id")?,
        prev_hash: row.get("prev_hash")?,
        hash: row.get("hash")?,
    })
}

pub fn location(row: &Row) -> Result<(i64, Location)> {
    Ok((
        row.get("seq")?,
        Location {
            id: row.get("id")?,
            name: row.get("name")?,
            kind: word(row, "kind", LocationKind::parse)?,
            parent_id: row.get("parent_id")?,
            on_premises: row.get("on_premises")?,
            address: row.get("address")?,
            custom: object(row, "custom")?,
            version: row.get("version")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        },
    ))
}

pub fn classification(row: &Row) -> Result<Classification> {
    Ok(Classification {
        key: row.get("key")?,
        name: row.get("name")?,
        rank: i32::try_from(row.get::<i64>("rank")?).unwrap_or(i32::MAX),
        description: row.get("description")?,
        encryption_required: row.get("encryption_required")?,
        off_premises: word(row, "off_premises", Handling::parse)?,
        external_sharing: word(row, "external_sharing", Handling::parse)?,
        label_required: row.get("label_required")?,
        disposal_method: word(row, "disposal_method", DisposalRequirement::parse)?,
        review_interval_days: i32::try_from(row.get::<i64>("review_interval_days")?).unwrap_or(365),
        version: row.get("version")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

pub fn custom_field(row: &Row) -> Result<CustomFieldDef> {
    Ok(CustomFieldDef {
        id: row.get("id")?,
        entity_type: word(row, "entity_type", EntityType::parse)?,
        key: row.get("key")?,
        label: row.get("label")?,
        field_type: word(row, "field_type", CustomType::parse)?,
        choices: strings(row, "choices")?,
        required: row.get("required")?,
        asset_kinds: strings(row, "asset_kinds")?
            .iter()
            .filter_map(|s| AssetKind::parse(s))
            .collect(),
        description: row.get("description")?,
        version: row.get("version")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

pub fn delegation(row: &Row) -> Result<(i64, Delegation)> {
    Ok((
        row.get("seq")?,
        Delegation {
            id: row.get("id")?,
            owner_id: row.get("owner_id")?,
            delegate_id: row.get("delegate_id")?,
            task: word(row, "task", DelegationTask::parse)?,
            asset_id: row.get("asset_id")?,
            note: row.get("note")?,
            created_at: row.get("created_at")?,
            ended_at: row.get("ended_at")?,
            end_reason: row.get("end_reason")?,
        },
    ))
}

pub fn relation(row: &Row) -> Result<Relation> {
    Ok(Relation {
        id: row.get("id")?,
        from_id: row.get("from_id")?,
        to_id: row.get("to_id")?,
        relation_type: word(row, "type", RelationType::parse)?,
        created_at: row.get("created_at")?,
    })
}

pub fn disposal(row: &Row) -> Result<DisposalRecord> {
    Ok(DisposalRecord {
        asset_id: row.get("asset_id")?,
        method: word(row, "method", DisposalMethod::parse)?,
        performed_by: row.get("performed_by")?,
        performed_at: row.get("performed_at")?,
        certificate_ref: row.get("certificate_ref")?,
        verified_by: row.get("verified_by")?,
        notes: row.get("notes")?,
    })
}

pub fn incident(row: &Row) -> Result<IncidentReport> {
    Ok(IncidentReport {
        asset_id: row.get("asset_id")?,
        status: word(row, "status", Status::parse)?,
        reported_at: row.get("reported_at")?,
        incident_ref: row.get("incident_ref")?,
        notes: row.get("notes")?,
    })
}

/// `INSERT INTO table (cols) VALUES (…)` for one record's columns.
pub fn insert(table: &str, values: Vec<(&'static str, crate::db::Arg)>) -> Sql {
    let mut sql = Sql::new("");
    let cols: Vec<&str> = values.iter().map(|(c, _)| *c).collect();
    let ps: Vec<String> = values.into_iter().map(|(_, v)| sql.arg(v)).collect();
    sql.text = format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        cols.join(", "),
        ps.join(", ")
    );
    sql
}

/// `UPDATE table SET cols = … WHERE key = $k AND version = $v` for one record.
pub fn update_versioned(
    table: &str,
    key_col: &str,
    key: crate::db::Arg,
    values: Vec<(&'static str, crate::db::Arg)>,
    expected_version: i64,
) -> Sql {
    let mut sql = Sql::new("");
    let sets: Vec<String> = values
        .into_iter()
        .filter(|(c, _)| *c != key_col && *c != "created_at")
        .map(|(c, v)| format!("{c} = {}", sql.arg(v)))
        .collect();
    let k = sql.arg(key);
    let v = sql.arg(expected_version);
    sql.text = format!(
        "UPDATE {table} SET {} WHERE {key_col} = {k} AND version = {v}",
        sets.join(", ")
    );
    sql
}

pub fn party_values(p: &Party) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("id", p.id.into()),
        ("kind", p.kind.as_str().into()),
        ("name", p.name.clone().into()),
        ("email", p.email.clone().into()),
        (
            "employment_type",
            p.employment_type.map(|e| e.as_str()).into(),
        ),
        ("status", p.status.map(|e| e.as_str()).into()),
        ("start_date", p.start_date.into()),
        ("end_date", p.end_date.into()),
        ("manager_id", p.manager_id.into()),
        ("holder_id", p.holder_id.into()),
        ("custom", Value::Object(p.custom.clone()).into()),
        ("version", p.version.into()),
        ("created_at", p.created_at.into()),
        ("updated_at", p.updated_at.into()),
    ]
}

pub fn location_values(l: &Location) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("id", l.id.into()),
        ("name", l.name.clone().into()),
        ("kind", l.kind.as_str().into()),
        ("parent_id", l.parent_id.into()),
        ("on_premises", l.on_premises.into()),
        ("address", l.address.clone().into()),
        ("custom", Value::Object(l.custom.clone()).into()),
        ("version", l.version.into()),
        ("created_at", l.created_at.into()),
        ("updated_at", l.updated_at.into()),
    ]
}

pub fn classification_values(c: &Classification) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("key", c.key.clone().into()),
        ("name", c.name.clone().into()),
        ("rank", i64::from(c.rank).into()),
        ("description", c.description.clone().into()),
        ("encryption_required", c.encryption_required.into()),
        ("off_premises", c.off_premises.as_str().into()),
        ("external_sharing", c.external_sharing.as_str().into()),
        ("label_required", c.label_required.into()),
        ("disposal_method", c.disposal_method.as_str().into()),
        (
            "review_interval_days",
            i64::from(c.review_interval_days).into(),
        ),
        ("version", c.version.into()),
        ("created_at", c.created_at.into()),
        ("updated_at", c.updated_at.into()),
    ]
}

pub fn custom_field_values(d: &CustomFieldDef) -> Vec<(&'static str, crate::db::Arg)> {
    let list = |v: Vec<String>| Value::Array(v.into_iter().map(Value::String).collect());
    vec![
        ("id", d.id.into()),
        ("entity_type", d.entity_type.as_str().into()),
        ("key", d.key.clone().into()),
        ("label", d.label.clone().into()),
        ("field_type", d.field_type.as_str().into()),
        ("choices", list(d.choices.clone()).into()),
        ("required", d.required.into()),
        (
            "asset_kinds",
            list(
                d.asset_kinds
                    .iter()
                    .map(|k| k.as_str().to_string())
                    .collect(),
            )
            .into(),
        ),
        ("description", d.description.clone().into()),
        ("version", d.version.into()),
        ("created_at", d.created_at.into()),
        ("updated_at", d.updated_at.into()),
    ]
}

pub const USER_COLS: &str = "seq, id, email, person_id, role, password_hash, totp_secret, totp_last_step, disabled, failed_logins, locked_until, oidc_subject, version, created_at, updated_at";
pub const SESSION_COLS: &str =
    "id_hash, user_id, csrf_token, created_at, last_seen_at, ip, user_agent";
pub const TOKEN_COLS: &str =
    "seq, id, user_id, name, token_hash, scope, created_at, expires_at, last_used_at, revoked_at";

pub fn user(row: &Row) -> Result<(i64, User)> {
    Ok((
        row.get("seq")?,
        User {
            id: row.get("id")?,
            email: row.get("email")?,
            person_id: row.get("person_id")?,
            role: word(row, "role", Role::parse)?,
            password_hash: row.get("password_hash")?,
            totp_secret: row.get("totp_secret")?,
            totp_last_step: row.get("totp_last_step")?,
            disabled: row.get("disabled")?,
            failed_logins: i32::try_from(row.get::<i64>("failed_logins")?).unwrap_or(i32::MAX),
            locked_until: row.get("locked_until")?,
            oidc_subject: row.get("oidc_subject")?,
            version: row.get("version")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        },
    ))
}

pub fn user_values(u: &User) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("id", u.id.into()),
        ("email", u.email.clone().into()),
        ("person_id", u.person_id.into()),
        ("role", u.role.as_str().into()),
        ("password_hash", u.password_hash.clone().into()),
        ("totp_secret", u.totp_secret.clone().into()),
        ("totp_last_step", u.totp_last_step.into()),
        ("disabled", u.disabled.into()),
        ("failed_logins", i64::from(u.failed_logins).into()),
        ("locked_until", u.locked_until.into()),
        ("oidc_subject", u.oidc_subject.clone().into()),
        ("version", u.version.into()),
        ("created_at", u.created_at.into()),
        ("updated_at", u.updated_at.into()),
    ]
}

pub fn session(row: &Row) -> Result<Session> {
    Ok(Session {
        id_hash: row.get("id_hash")?,
        user_id: row.get("user_id")?,
        csrf_token: row.get("csrf_token")?,
        created_at: row.get("created_at")?,
        last_seen_at: row.get("last_seen_at")?,
        ip: row.get("ip")?,
        user_agent: row.get("user_agent")?,
    })
}

pub fn token(row: &Row) -> Result<ApiToken> {
    Ok(ApiToken {
        id: row.get("id")?,
        user_id: row.get("user_id")?,
        name: row.get("name")?,
        token_hash: row.get("token_hash")?,
        scope: word(row, "scope", Scope::parse)?,
        created_at: row.get("created_at")?,
        expires_at: row.get("expires_at")?,
        last_used_at: row.get("last_used_at")?,
        revoked_at: row.get("revoked_at")?,
    })
}

pub const POLICY_COLS: &str = "seq, id, document, number, title, body, effective_date, material, change_summary, author_id, status, approved_by, approved_at, next_review_at, version, created_at, updated_at";
pub const ACK_COLS: &str =
    "seq, id, policy_id, person_id, acknowledged_at, source, note, created_at";
pub const ASSIGNMENT_COLS: &str = "seq, id, asset_id, kind, person_id, host_id, issued_at, issued_by, expected_return_at, off_premises, location_id, approved_by, exception_id, policy_id, warnings, notes, returned_at, received_by, condition, outcome, version, created_at, updated_at";
pub const EXCEPTION_COLS: &str = "seq, id, rule, justification, compensating_controls, requester_id, approver_id, decided_at, decision_notes, expires_at, status, version, created_at, updated_at";

pub fn policy_values(p: &PolicyVersion) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("id", p.id.into()),
        ("document", p.document.as_str().into()),
        ("number", p.number.clone().into()),
        ("title", p.title.clone().into()),
        ("body", p.body.clone().into()),
        ("effective_date", p.effective_date.into()),
        ("material", p.material.into()),
        ("change_summary", p.change_summary.clone().into()),
        ("author_id", p.author_id.into()),
        ("status", p.status.as_str().into()),
        ("approved_by", p.approved_by.into()),
        ("approved_at", p.approved_at.into()),
        ("next_review_at", p.next_review_at.into()),
        ("version", p.version.into()),
        ("created_at", p.created_at.into()),
        ("updated_at", p.updated_at.into()),
    ]
}

pub fn policy(row: &Row) -> Result<(i64, PolicyVersion)> {
    Ok((
        row.get("seq")?,
        PolicyVersion {
            id: row.get("id")?,
            document: word(row, "document", PolicyDocument::parse)?,
            number: row.get("number")?,
            title: row.get("title")?,
            body: row.get("body")?,
            effective_date: row.get("effective_date")?,
            material: row.get("material")?,
            change_summary: row.get("change_summary")?,
            author_id: row.get("author_id")?,
            status: word(row, "status", PolicyStatus::parse)?,
            approved_by: row.get("approved_by")?,
            approved_at: row.get("approved_at")?,
            next_review_at: row.get("next_review_at")?,
            version: row.get("version")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        },
    ))
}

pub fn ack_values(a: &Acknowledgement) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("id", a.id.into()),
        ("policy_id", a.policy_id.into()),
        ("person_id", a.person_id.into()),
        ("acknowledged_at", a.acknowledged_at.into()),
        ("source", a.source.as_str().into()),
        ("note", a.note.clone().into()),
        ("created_at", a.created_at.into()),
    ]
}

pub fn acknowledgement(row: &Row) -> Result<(i64, Acknowledgement)> {
    Ok((
        row.get("seq")?,
        Acknowledgement {
            id: row.get("id")?,
            policy_id: row.get("policy_id")?,
            person_id: row.get("person_id")?,
            acknowledged_at: row.get("acknowledged_at")?,
            source: word(row, "source", AckSource::parse)?,
            note: row.get("note")?,
            created_at: row.get("created_at")?,
        },
    ))
}

pub fn assignment_values(a: &Assignment) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("id", a.id.into()),
        ("asset_id", a.asset_id.into()),
        ("kind", a.kind.as_str().into()),
        ("person_id", a.person_id.into()),
        ("host_id", a.host_id.into()),
        ("issued_at", a.issued_at.into()),
        ("issued_by", a.issued_by.into()),
        ("expected_return_at", a.expected_return_at.into()),
        ("off_premises", a.off_premises.into()),
        ("location_id", a.location_id.into()),
        ("approved_by", a.approved_by.into()),
        ("exception_id", a.exception_id.into()),
        ("policy_id", a.policy_id.into()),
        (
            "warnings",
            Value::Array(a.warnings.iter().cloned().map(Value::String).collect()).into(),
        ),
        ("notes", a.notes.clone().into()),
        ("returned_at", a.returned_at.into()),
        ("received_by", a.received_by.into()),
        ("condition", a.condition.clone().into()),
        ("outcome", a.outcome.map(|o| o.as_str()).into()),
        ("version", a.version.into()),
        ("created_at", a.created_at.into()),
        ("updated_at", a.updated_at.into()),
    ]
}

pub fn assignment(row: &Row) -> Result<(i64, Assignment)> {
    Ok((
        row.get("seq")?,
        Assignment {
            id: row.get("id")?,
            asset_id: row.get("asset_id")?,
            kind: word(row, "kind", AssignmentKind::parse)?,
            person_id: row.get("person_id")?,
            host_id: row.get("host_id")?,
            issued_at: row.get("issued_at")?,
            issued_by: row.get("issued_by")?,
            expected_return_at: row.get("expected_return_at")?,
            off_premises: row.get("off_premises")?,
            location_id: row.get("location_id")?,
            approved_by: row.get("approved_by")?,
            exception_id: row.get("exception_id")?,
            policy_id: row.get("policy_id")?,
            warnings: strings(row, "warnings")?,
            notes: row.get("notes")?,
            returned_at: row.get("returned_at")?,
            received_by: row.get("received_by")?,
            condition: row.get("condition")?,
            outcome: opt_word(row, "outcome", AssignmentOutcome::parse)?,
            version: row.get("version")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        },
    ))
}

pub fn exception_values(x: &PolicyException) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("id", x.id.into()),
        ("rule", x.rule.as_str().into()),
        ("justification", x.justification.clone().into()),
        (
            "compensating_controls",
            x.compensating_controls.clone().into(),
        ),
        ("requester_id", x.requester_id.into()),
        ("approver_id", x.approver_id.into()),
        ("decided_at", x.decided_at.into()),
        ("decision_notes", x.decision_notes.clone().into()),
        ("expires_at", x.expires_at.into()),
        ("status", x.status.as_str().into()),
        ("version", x.version.into()),
        ("created_at", x.created_at.into()),
        ("updated_at", x.updated_at.into()),
    ]
}

/// An exception without its assets (filled in by the caller).
pub fn exception(row: &Row) -> Result<(i64, PolicyException)> {
    Ok((
        row.get("seq")?,
        PolicyException {
            id: row.get("id")?,
            rule: word(row, "rule", ExceptionRule::parse)?,
            asset_ids: vec![],
            justification: row.get("justification")?,
            compensating_controls: row.get("compensating_controls")?,
            requester_id: row.get("requester_id")?,
            approver_id: row.get("approver_id")?,
            decided_at: row.get("decided_at")?,
            decision_notes: row.get("decision_notes")?,
            expires_at: row.get("expires_at")?,
            status: word(row, "status", ExceptionStatus::parse)?,
            version: row.get("version")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        },
    ))
}

pub const OFFBOARDING_COLS: &str = "seq, id, person_id, kind, reason, from_party_id, end_date, successor_id, status, opened_by, closed_at, closed_by, notes, version, created_at, updated_at";
pub const ITEM_COLS: &str = "offboarding_id, id, kind, asset_id, assignment_id, delegation_id, title, status, successor_id, settled_at, settled_by, evidence";
pub const ATTESTATION_COLS: &str =
    "seq, id, title, due_date, status, opened_by, closed_at, closed_by, version, created_at, updated_at";
pub const ATTESTATION_OWNER_COLS: &str = "attestation_id, owner_id, asset_count, status, responded_at, responded_by, note, disputed_asset_ids";

pub fn offboarding_values(c: &Offboarding) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("id", c.id.into()),
        ("person_id", c.person_id.into()),
        ("kind", c.kind.as_str().into()),
        ("reason", c.reason.clone().into()),
        ("from_party_id", c.from_party_id.into()),
        ("end_date", c.end_date.into()),
        ("successor_id", c.successor_id.into()),
        ("status", c.status.as_str().into()),
        ("opened_by", c.opened_by.into()),
        ("closed_at", c.closed_at.into()),
        ("closed_by", c.closed_by.into()),
        ("notes", c.notes.clone().into()),
        ("version", c.version.into()),
        ("created_at", c.created_at.into()),
        ("updated_at", c.updated_at.into()),
    ]
}

pub fn offboarding(row: &Row) -> Result<(i64, Offboarding)> {
    Ok((
        row.get("seq")?,
        Offboarding {
            id: row.get("id")?,
            person_id: row.get("person_id")?,
            kind: word(row, "kind", CaseKind::parse)?,
            reason: row.get("reason")?,
            from_party_id: row.get("from_party_id")?,
            end_date: row.get("end_date")?,
            successor_id: row.get("successor_id")?,
            status: word(row, "status", CaseStatus::parse)?,
            opened_by: row.get("opened_by")?,
            closed_at: row.get("closed_at")?,
            closed_by: row.get("closed_by")?,
            notes: row.get("notes")?,
            items: Vec::new(),
            version: row.get("version")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        },
    ))
}

/// The columns of an item that change when it is settled.
pub fn item_state(i: &CaseItem) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("status", i.status.as_str().into()),
        ("successor_id", i.successor_id.into()),
        ("settled_at", i.settled_at.into()),
        ("settled_by", i.settled_by.into()),
        ("evidence", i.evidence.clone().into()),
    ]
}

pub fn item_values(
    case: Uuid,
    position: usize,
    i: &CaseItem,
) -> Vec<(&'static str, crate::db::Arg)> {
    let mut v = vec![
        ("id", i.id.into()),
        ("offboarding_id", case.into()),
        ("position", (position as i64).into()),
        ("kind", i.kind.as_str().into()),
        ("asset_id", i.asset_id.into()),
        ("assignment_id", i.assignment_id.into()),
        ("delegation_id", i.delegation_id.into()),
        ("title", i.title.clone().into()),
    ];
    v.extend(item_state(i));
    v
}

/// An item and the case it belongs to.
pub fn item(row: &Row) -> Result<(Uuid, CaseItem)> {
    Ok((
        row.get("offboarding_id")?,
        CaseItem {
            id: row.get("id")?,
            kind: word(row, "kind", ItemKind::parse)?,
            asset_id: row.get("asset_id")?,
            assignment_id: row.get("assignment_id")?,
            delegation_id: row.get("delegation_id")?,
            title: row.get("title")?,
            status: word(row, "status", ItemStatus::parse)?,
            successor_id: row.get("successor_id")?,
            settled_at: row.get("settled_at")?,
            settled_by: row.get("settled_by")?,
            evidence: row.get("evidence")?,
        },
    ))
}

pub fn attestation_values(a: &Attestation) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("id", a.id.into()),
        ("title", a.title.clone().into()),
        ("due_date", a.due_date.into()),
        ("status", a.status.as_str().into()),
        ("opened_by", a.opened_by.into()),
        ("closed_at", a.closed_at.into()),
        ("closed_by", a.closed_by.into()),
        ("version", a.version.into()),
        ("created_at", a.created_at.into()),
        ("updated_at", a.updated_at.into()),
    ]
}

pub fn attestation(row: &Row) -> Result<(i64, Attestation)> {
    Ok((
        row.get("seq")?,
        Attestation {
            id: row.get("id")?,
            title: row.get("title")?,
            due_date: row.get("due_date")?,
            status: word(row, "status", AttestationStatus::parse)?,
            opened_by: row.get("opened_by")?,
            closed_at: row.get("closed_at")?,
            closed_by: row.get("closed_by")?,
            owners: Vec::new(),
            version: row.get("version")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        },
    ))
}

/// The columns of an owner's row that change when they answer.
pub fn answer_values(o: &AttestationOwner) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("status", o.status.as_str().into()),
        ("responded_at", o.responded_at.into()),
        ("responded_by", o.responded_by.into()),
        ("note", o.note.clone().into()),
        (
            "disputed_asset_ids",
            Value::Array(
                o.disputed_asset_ids
                    .iter()
                    .map(|i| Value::String(i.to_string()))
                    .collect(),
            )
            .into(),
        ),
    ]
}

pub fn attestation_owner_values(
    campaign: Uuid,
    position: usize,
    o: &AttestationOwner,
) -> Vec<(&'static str, crate::db::Arg)> {
    let mut v = vec![
        ("attestation_id", campaign.into()),
        ("owner_id", o.owner_id.into()),
        ("position", (position as i64).into()),
        ("asset_count", o.asset_count.into()),
    ];
    v.extend(answer_values(o));
    v
}

/// An owner's row and the campaign it belongs to.
pub fn attestation_owner(row: &Row) -> Result<(Uuid, AttestationOwner)> {
    Ok((
        row.get("attestation_id")?,
        AttestationOwner {
            owner_id: row.get("owner_id")?,
            asset_count: row.get("asset_count")?,
            status: word(row, "status", OwnerResponse::parse)?,
            responded_at: row.get("responded_at")?,
            responded_by: row.get("responded_by")?,
            note: row.get("note")?,
            disputed_asset_ids: strings(row, "disputed_asset_ids")?
                .iter()
                .filter_map(|s| Uuid::parse_str(s).ok())
                .collect(),
        },
    ))
}

pub const STOCKTAKE_COLS: &str = "seq, id, location_id, include_sublocations, status, started_at, started_by, closed_at, closed_by, notes, version, created_at, updated_at";
pub const SCAN_COLS: &str = "seq, id, stocktake_id, asset_id, entered, scanned_at, scanned_by, result, registered_location_id";

pub fn stocktake_values(t: &Stocktake) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("id", t.id.into()),
        ("location_id", t.location_id.into()),
        ("include_sublocations", t.include_sublocations.into()),
        ("status", t.status.as_str().into()),
        ("started_at", t.started_at.into()),
        ("started_by", t.started_by.into()),
        ("closed_at", t.closed_at.into()),
        ("closed_by", t.closed_by.into()),
        ("notes", t.notes.clone().into()),
        ("version", t.version.into()),
        ("created_at", t.created_at.into()),
        ("updated_at", t.updated_at.into()),
    ]
}

pub fn stocktake(row: &Row) -> Result<(i64, Stocktake)> {
    Ok((
        row.get("seq")?,
        Stocktake {
            id: row.get("id")?,
            location_id: row.get("location_id")?,
            include_sublocations: row.get("include_sublocations")?,
            status: word(row, "status", StocktakeStatus::parse)?,
            started_at: row.get("started_at")?,
            started_by: row.get("started_by")?,
            closed_at: row.get("closed_at")?,
            closed_by: row.get("closed_by")?,
            notes: row.get("notes")?,
            version: row.get("version")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        },
    ))
}

pub fn scan_values(x: &StocktakeScan) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("id", x.id.into()),
        ("stocktake_id", x.stocktake_id.into()),
        ("asset_id", x.asset_id.into()),
        ("entered", x.entered.clone().into()),
        ("scanned_at", x.scanned_at.into()),
        ("scanned_by", x.scanned_by.into()),
        ("result", x.result.as_str().into()),
        ("registered_location_id", x.registered_location_id.into()),
    ]
}

pub fn scan(row: &Row) -> Result<(i64, StocktakeScan)> {
    Ok((
        row.get("seq")?,
        StocktakeScan {
            id: row.get("id")?,
            stocktake_id: row.get("stocktake_id")?,
            asset_id: row.get("asset_id")?,
            entered: row.get("entered")?,
            scanned_at: row.get("scanned_at")?,
            scanned_by: row.get("scanned_by")?,
            result: word(row, "result", ScanResult::parse)?,
            registered_location_id: row.get("registered_location_id")?,
        },
    ))
}
