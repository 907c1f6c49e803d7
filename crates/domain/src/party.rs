//! Parties (SPEC §3): persons, teams and roles share one id space; delegations.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::custom::{self, CustomFieldDef, EntityType};
use crate::error::Problems;
use crate::input::{merge_patch, Input};
use crate::value;

wire_enum! {
    /// What kind of party.
    PartyKind { Person = "person", Team = "team", Role = "role" }
}

wire_enum! {
    /// How a person works for the organisation.
    EmploymentType { Employee = "employee", Contractor = "contractor", External = "external" }
}

wire_enum! {
    /// Where a person is in their time with the organisation.
    PersonStatus { Active = "active", Notice = "notice", Left = "left" }
}

wire_enum! {
    /// A routine task an owner may delegate.
    DelegationTask { Review = "review", Inventory = "inventory", Handling = "handling" }
}

/// A person, a team or a role.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Party {
    /// Identifier (shared id space across kinds).
    pub id: Uuid,
    /// Person, team or role.
    pub kind: PartyKind,
    /// Display name.
    pub name: String,
    /// Person: e-mail address (unique, lower-case).
    pub email: Option<String>,
    /// Person: employee, contractor or external.
    pub employment_type: Option<EmploymentType>,
    /// Person: active, notice or left.
    pub status: Option<PersonStatus>,
    /// Person: first day.
    pub start_date: Option<NaiveDate>,
    /// Person: last day.
    pub end_date: Option<NaiveDate>,
    /// Person: their manager (a person).
    pub manager_id: Option<Uuid>,
    /// Role: the person who holds it (`None` = vacant).
    pub holder_id: Option<Uuid>,
    /// Team: its members (persons).
    pub member_ids: Vec<Uuid>,
    /// Custom fields.
    pub custom: Map<String, Value>,
    /// Record version.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

const PERSON_FIELDS: &[&str] = &[
    "kind",
    "name",
    "email",
    "employment_type",
    "status",
    "start_date",
    "end_date",
    "manager_id",
    "custom",
];
const TEAM_FIELDS: &[&str] = &["kind", "name", "member_ids", "custom"];
const ROLE_FIELDS: &[&str] = &["kind", "name", "holder_id", "custom"];
const READ_ONLY: &[&str] = &["id", "version", "created_at", "updated_at", "orphan_reason"];

/// Parses an e-mail address, lower-casing it.
pub fn parse_email(v: &Value) -> Result<String, String> {
    let s = value::text(v, 254)?.to_lowercase();
    let valid = match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(s)
    } else {
        Err(format!("must be an e-mail address, not {s:?}"))
    }
}

impl Party {
    /// Builds a party from a create request.
    pub fn from_input(
        obj: &Map<String, Value>,
        defs: &[CustomFieldDef],
        now: DateTime<Utc>,
    ) -> Result<Self, Problems> {
        Self::parse(obj, defs, None, now)
    }

    /// Applies a merge-patch; the kind cannot change.
    pub fn patched(
        &self,
        patch: &Map<String, Value>,
        defs: &[CustomFieldDef],
        now: DateTime<Utc>,
    ) -> Result<Self, Problems> {
        if let Some(k) = patch.get("kind") {
            if k.as_str() != Some(self.kind.as_str()) {
                let mut p = Problems::new();
                p.add("kind", "cannot be changed");
                return Err(p);
            }
        }
        let mut obj = self.to_input();
        if let Some(Value::Object(c)) = obj.get_mut("custom") {
            custom::retain_defined(c, defs, EntityType::Party);
        }
        merge_patch(&mut obj, patch);
        Self::parse(&obj, defs, Some(self), now)
    }

    /// The writable fields as an input object (the base for a merge-patch).
    pub fn to_input(&self) -> Map<String, Value> {
        let mut m = match serde_json::to_value(self) {
            Ok(Value::Object(o)) => o,
            _ => Map::new(),
        };
        m.retain(|k, v| !v.is_null() && !READ_ONLY.contains(&k.as_str()));
        let allowed = match self.kind {
            PartyKind::Person => PERSON_FIELDS,
            PartyKind::Team => TEAM_FIELDS,
            PartyKind::Role => ROLE_FIELDS,
        };
        m.retain(|k, _| allowed.contains(&k.as_str()));
        m
    }

    fn parse(
        obj: &Map<String, Value>,
        defs: &[CustomFieldDef],
        old: Option<&Self>,
        now: DateTime<Utc>,
    ) -> Result<Self, Problems> {
        let mut r = Input::new(obj);
        let kind = r.required("kind", PartyKind::from_json);
        let fields = match kind {
            Some(PartyKind::Person) => PERSON_FIELDS,
            Some(PartyKind::Team) => TEAM_FIELDS,
            Some(PartyKind::Role) => ROLE_FIELDS,
            None => &[
                "kind",
                "name",
                "email",
                "employment_type",
                "status",
                "start_date",
                "end_date",
                "manager_id",
                "holder_id",
                "member_ids",
                "custom",
            ][..],
        };
        let what = match kind {
            Some(PartyKind::Person) => "a person",
            Some(PartyKind::Team) => "a team",
            Some(PartyKind::Role) => "a role",
            None => "a party",
        };
        r.reject_unknown(fields, READ_ONLY, what);
        let name = r.required("name", |v| value::text(v, 200));
        let is_person = kind == Some(PartyKind::Person);
        let email = if is_person {
            r.required("email", parse_email).map(Some)
        } else {
            Some(None)
        };
        let employment_type = if is_person {
            r.or_default(
                "employment_type",
                EmploymentType::Employee,
                EmploymentType::from_json,
            )
            .map(Some)
        } else {
            Some(None)
        };
        let status = if is_person {
            r.or_default("status", PersonStatus::Active, PersonStatus::from_json)
                .map(Some)
        } else {
            Some(None)
        };
        let start_date = r.optional("start_date", value::date);
        let end_date = r.optional("end_date", value::date);
        let manager_id = r.optional("manager_id", value::id);
        let holder_id = r.optional("holder_id", value::id);
        let member_ids = r.or_default("member_ids", vec![], |v| {
            let Value::Array(items) = v else {
                return Err(format!(
                    "must be a list of ids, not {}",
                    value::type_name(v)
                ));
            };
            let mut out: Vec<Uuid> = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let id = value::id(item).map_err(|m| format!("item {}: {m}", i + 1))?;
                if !out.contains(&id) {
                    out.push(id);
                }
            }
            Ok(out)
        });
        if let (Some(Some(s)), Some(Some(e))) = (start_date, end_date) {
            if e < s {
                r.add("end_date", "must not be before start_date");
            }
        }
        if let (Some(Some(m)), Some(o)) = (manager_id, old) {
            if m == o.id {
                r.add("manager_id", "a person cannot be their own manager");
            }
        }
        let custom = custom::validate(
            defs,
            EntityType::Party,
            None,
            obj.get("custom"),
            &mut r.problems,
        );
        let Input { problems, .. } = r;
        let (
            Some(kind),
            Some(name),
            Some(email),
            Some(employment_type),
            Some(status),
            Some(start_date),
            Some(end_date),
            Some(manager_id),
            Some(holder_id),
            Some(member_ids),
        ) = (
            kind,
            name,
            email,
            employment_type,
            status,
            start_date,
            end_date,
            manager_id,
            holder_id,
            member_ids,
        )
        else {
            return Err(problems);
        };
        problems.into_result(Party {
            id: old.map_or_else(crate::new_id, |o| o.id),
            kind,
            name,
            email,
            employment_type,
            status,
            start_date,
            end_date,
            manager_id,
            holder_id,
            member_ids,
            custom,
            version: old.map_or(1, |o| o.version + 1),
            created_at: old.map_or(now, |o| o.created_at),
            updated_at: now,
        })
    }

    /// True for a person who has left.
    pub fn has_left(&self) -> bool {
        self.status == Some(PersonStatus::Left)
    }
}

/// Why a party cannot be an accountable owner, if it cannot: a person who has left, a team
/// with no active members, a role with no active holder.
pub fn orphan_reason(
    owner: &Party,
    people: &dyn Fn(Uuid) -> Option<PersonStatus>,
) -> Option<&'static str> {
    let active = |id: Uuid| people(id).is_some_and(|s| s != PersonStatus::Left);
    match owner.kind {
        PartyKind::Person if owner.has_left() => Some("the owner has left the organisation"),
        PartyKind::Team if !owner.member_ids.iter().any(|m| active(*m)) => {
            Some("the owning team has no active members")
        }
        PartyKind::Role if !owner.holder_id.is_some_and(active) => {
            Some("the owning role is vacant")
        }
        _ => None,
    }
}

/// A delegation of a routine task from an owner to another party.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Delegation {
    /// Identifier.
    pub id: Uuid,
    /// The owner who delegates.
    pub owner_id: Uuid,
    /// The party who carries out the task.
    pub delegate_id: Uuid,
    /// The task delegated.
    pub task: DelegationTask,
    /// Limits the delegation to one asset (`None` = all the owner's assets).
    pub asset_id: Option<Uuid>,
    /// Why, or any condition.
    pub note: Option<String>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// When it ended (`None` = in force).
    pub ended_at: Option<DateTime<Utc>>,
    /// Why it ended.
    pub end_reason: Option<String>,
}

impl Delegation {
    /// Builds a delegation from a create request.
    pub fn from_input(obj: &Map<String, Value>, now: DateTime<Utc>) -> Result<Self, Problems> {
        let mut r = Input::new(obj);
        r.reject_unknown(
            &["owner_id", "delegate_id", "task", "asset_id", "note"],
            &["id", "created_at", "ended_at", "end_reason"],
            "a delegation",
        );
        let owner_id = r.required("owner_id", value::id);
        let delegate_id = r.required("delegate_id", value::id);
        let task = r.required("task", DelegationTask::from_json);
        let asset_id = r.optional("asset_id", value::id);
        let note = r.optional("note", |v| value::text(v, 1000));
        if owner_id.is_some() && owner_id == delegate_id {
            r.add("delegate_id", "must differ from owner_id");
        }
        let Input { problems, .. } = r;
        let (Some(owner_id), Some(delegate_id), Some(task), Some(asset_id), Some(note)) =
            (owner_id, delegate_id, task, asset_id, note)
        else {
            return Err(problems);
        };
        problems.into_result(Delegation {
            id: crate::new_id(),
            owner_id,
            delegate_id,
            task,
            asset_id,
            note,
            created_at: now,
            ended_at: None,
            end_reason: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_person_needs_an_email_and_defaults_to_active_employee() {
        let p = Party::from_input(
            &obj(json!({"kind": "person", "name": "Ada", "email": "Ada@Example.com"})),
            &[],
            crate::now(),
        )
        .unwrap();
        assert_eq!(p.email.as_deref(), Some("ada@example.com"));
        assert_eq!(p.status, Some(PersonStatus::Active));
        let e = Party::from_input(
            &obj(json!({"kind": "person", "name": "Ada", "email": "nope"})),
            &[],
            crate::now(),
        )
        .unwrap_err();
        assert_eq!(e.0[0].field, "email");
    }

    #[test]
    fn fields_of_other_kinds_are_refused() {
        let e = Party::from_input(
            &obj(json!({"kind": "team", "name": "IT", "email": "it@example.com"})),
            &[],
            crate::now(),
        )
        .unwrap_err();
        assert_eq!(e.0[0].field, "email");
        assert!(e.0[0].message.contains("a team"));
    }

    #[test]
    fn orphans_are_recognised() {
        let now = crate::now();
        let left = Party::from_input(
            &obj(json!({"kind": "person", "name": "L", "email": "l@x.io", "status": "left"})),
            &[],
            now,
        )
        .unwrap();
        let role =
            Party::from_input(&obj(json!({"kind": "role", "name": "DPO"})), &[], now).unwrap();
        let team = Party::from_input(
            &obj(json!({"kind": "team", "name": "IT", "member_ids": [left.id]})),
            &[],
            now,
        )
        .unwrap();
        let lookup = |id: Uuid| (id == left.id).then_some(PersonStatus::Left);
        assert!(orphan_reason(&left, &lookup).is_some());
        assert!(orphan_reason(&role, &lookup).is_some());
        assert!(orphan_reason(&team, &lookup).is_some());
    }

    #[test]
    fn a_delegation_cannot_be_to_oneself() {
        let id = crate::new_id();
        let e = Delegation::from_input(
            &obj(json!({"owner_id": id, "delegate_id": id, "task": "review"})),
            crate::now(),
        )
        .unwrap_err();
        assert_eq!(e.0[0].field, "delegate_id");
    }
}
