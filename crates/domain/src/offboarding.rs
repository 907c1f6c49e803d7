//! Return of assets (SPEC §6.4, §6.8; ISO/IEC 27001 A.5.11): the case that opens when a
//! person enters notice or leaves — or moves to another team or role — and lists
//! everything to settle before it may close.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::Problems;
use crate::input::Input;
use crate::value;

wire_enum! {
    /// Why a case was opened.
    CaseKind {
        /// A person entering notice or leaving the organisation.
        Leaver = "leaver",
        /// A person leaving a team or giving up a role.
        Mover = "mover",
    }
}

wire_enum! {
    /// Whether a case still has work.
    CaseStatus { Open = "open", Closed = "closed" }
}

wire_enum! {
    /// What an item asks for.
    ItemKind {
        /// An asset they hold (custody or a software seat) comes back.
        ReturnAsset = "return_asset",
        /// Company data on their personal device is transferred and securely erased.
        ErasePersonalDevice = "erase_personal_device",
        /// An asset they own (or, for a mover, the old team or role owns) goes to a successor.
        HandOverAsset = "hand_over_asset",
        /// A delegation they give or hold goes to a successor.
        HandOverDelegation = "hand_over_delegation",
        /// Their access is revoked (for a mover: the access of the old team or role).
        RevokeAccess = "revoke_access",
    }
}

wire_enum! {
    /// Whether an item is done.
    ItemStatus { Open = "open", Settled = "settled" }
}

/// The most items of one kind listed at once; a later refresh lists the rest.
pub const MAX_ITEMS_PER_KIND: usize = 1000;

/// One thing to settle.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CaseItem {
    /// Identifier.
    pub id: Uuid,
    /// What it asks for.
    pub kind: ItemKind,
    /// The asset concerned (returns, devices, hand-overs of assets).
    pub asset_id: Option<Uuid>,
    /// The custody or seat to end (returns).
    pub assignment_id: Option<Uuid>,
    /// The delegation to hand over.
    pub delegation_id: Option<Uuid>,
    /// What to do, in words ("Return AST-000042 ThinkPad T14").
    pub title: String,
    /// Open or settled.
    pub status: ItemStatus,
    /// The party it was handed over to (hand-overs).
    pub successor_id: Option<Uuid>,
    /// When it was settled.
    pub settled_at: Option<DateTime<Utc>>,
    /// The person who settled it.
    pub settled_by: Option<Uuid>,
    /// What shows it was done (a ticket, a certificate, a note).
    pub evidence: Option<String>,
}

impl CaseItem {
    /// A new open item.
    pub fn open(kind: ItemKind, title: String) -> Self {
        Self {
            id: crate::new_id(),
            kind,
            asset_id: None,
            assignment_id: None,
            delegation_id: None,
            title,
            status: ItemStatus::Open,
            successor_id: None,
            settled_at: None,
            settled_by: None,
            evidence: None,
        }
    }

    /// What the item is about, so a refresh does not list it twice.
    pub fn subject(&self) -> (ItemKind, Option<Uuid>) {
        (
            self.kind,
            self.assignment_id
                .or(self.delegation_id)
                .or(self.asset_id)
                .or((self.kind == ItemKind::RevokeAccess).then_some(Uuid::nil())),
        )
    }

    /// Whether it is open past the end date.
    pub fn overdue(&self, end_date: Option<NaiveDate>, today: NaiveDate) -> bool {
        self.status == ItemStatus::Open && end_date.is_some_and(|d| d < today)
    }
}

/// An offboarding (leaver) or handover (mover) case.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Offboarding {
    /// Identifier.
    pub id: Uuid,
    /// The person leaving or moving.
    pub person_id: Uuid,
    /// Leaver or mover.
    pub kind: CaseKind,
    /// What opened it ("entered notice", "left the team Finance").
    pub reason: String,
    /// For a mover: the team or role they left.
    pub from_party_id: Option<Uuid>,
    /// The last day: items open after it are overdue.
    pub end_date: Option<NaiveDate>,
    /// Who takes over what they own and the delegations they hold, unless an item names
    /// someone else.
    pub successor_id: Option<Uuid>,
    /// Open or closed.
    pub status: CaseStatus,
    /// The person who opened it (none when the system opened it).
    pub opened_by: Option<Uuid>,
    /// When it closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// The person who closed it.
    pub closed_by: Option<Uuid>,
    /// Anything said about the case.
    pub notes: Option<String>,
    /// What to settle, in order.
    pub items: Vec<CaseItem>,
    /// Record version for optimistic concurrency.
    pub version: i64,
    /// When it opened.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Offboarding {
    /// Items not settled yet.
    pub fn open_items(&self) -> impl Iterator<Item = &CaseItem> {
        self.items.iter().filter(|i| i.status == ItemStatus::Open)
    }

    /// Whether any item is open past the end date.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.status == CaseStatus::Open
            && self.items.iter().any(|i| i.overdue(self.end_date, today))
    }

    /// Whether the case may close; if not, why (naming the open items).
    pub fn may_close(&self) -> Result<(), String> {
        if self.status == CaseStatus::Closed {
            return Err("the case is closed already".into());
        }
        let open: Vec<&str> = self.open_items().map(|i| i.title.as_str()).collect();
        if open.is_empty() {
            return Ok(());
        }
        let shown: Vec<&str> = open.iter().take(5).copied().collect();
        let more = if open.len() > shown.len() {
            format!(" and {} more", open.len() - shown.len())
        } else {
            String::new()
        };
        Err(format!(
            "{} item{} still open: {}{more}; settle each first",
            open.len(),
            if open.len() == 1 { " is" } else { "s are" },
            shown.join("; ")
        ))
    }

    /// Adds items whose subject the case does not list yet; answers how many were added.
    pub fn add_missing(&mut self, found: Vec<CaseItem>) -> usize {
        let mut added = 0;
        for item in found {
            let s = item.subject();
            if !self.items.iter().any(|i| i.subject() == s) {
                self.items.push(item);
                added += 1;
            }
        }
        added
    }

    /// The record as the audit trail sees it (items by id, with their state).
    pub fn audit_view(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(mut m)) => {
                m.remove("items");
                m.remove("version");
                m.remove("created_at");
                m.remove("updated_at");
                m
            }
            _ => Map::new(),
        }
    }
}

/// The controls that stand against unauthorised copying while someone works their notice
/// (A.5.11, A.8.12): what the case shows until they leave.
pub const NOTICE_CONTROLS: &[(&str, &str)] = &[
    (
        "Removable media",
        "Copying to USB drives and other removable media is blocked on the devices they hold; exceptions go through the exception register.",
    ),
    (
        "Data-loss prevention",
        "Alerts for bulk downloads, uploads to personal cloud storage and mail forwarded to private addresses are watched daily.",
    ),
    (
        "Need to know",
        "Access to confidential and restricted information is narrowed to the work they hand over; new access is not granted.",
    ),
    (
        "Logging",
        "The activity logs of their accounts and devices are kept until the case closes.",
    ),
    (
        "Hand-over sessions",
        "Knowledge passes to the successor in working sessions, not by copying whole shares or mailboxes.",
    ),
];

/// What a request to open a case asks for.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenRequest {
    /// The person.
    pub person_id: Uuid,
    /// The last day (defaults to the person's end date).
    pub end_date: Option<NaiveDate>,
    /// The successor.
    pub successor_id: Option<Uuid>,
    /// Notes.
    pub notes: Option<String>,
}

const CASE_READ_ONLY: &[&str] = &[
    "id",
    "kind",
    "reason",
    "from_party_id",
    "status",
    "opened_by",
    "closed_at",
    "closed_by",
    "items",
    "overdue",
    "open_items",
    "notice_controls",
    "version",
    "created_at",
    "updated_at",
];

impl OpenRequest {
    /// Reads a request to open a leaver's case by hand.
    pub fn from_input(obj: &Map<String, Value>) -> Result<Self, Problems> {
        let mut r = Input::new(obj);
        r.reject_unknown(
            &["person_id", "end_date", "successor_id", "notes"],
            CASE_READ_ONLY,
            "an offboarding case",
        );
        let person_id = r.required("person_id", value::id);
        let end_date = r.optional("end_date", value::date);
        let successor_id = r.optional("successor_id", value::id);
        let notes = r.optional("notes", |v| value::text(v, 4000));
        let Input { problems, .. } = r;
        let (Some(person_id), Some(end_date), Some(successor_id), Some(notes)) =
            (person_id, end_date, successor_id, notes)
        else {
            return Err(problems);
        };
        problems.into_result(OpenRequest {
            person_id,
            end_date,
            successor_id,
            notes,
        })
    }
}

/// What a change of a case's own fields asks for: `Some(None)` clears a field.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CasePatch {
    /// The last day.
    pub end_date: Option<Option<NaiveDate>>,
    /// The successor.
    pub successor_id: Option<Option<Uuid>>,
    /// Notes.
    pub notes: Option<Option<String>>,
}

impl CasePatch {
    /// Reads a patch of `end_date`, `successor_id` and `notes`.
    pub fn from_input(obj: &Map<String, Value>) -> Result<Self, Problems> {
        let mut r = Input::new(obj);
        r.reject_unknown(
            &["end_date", "successor_id", "notes"],
            &[CASE_READ_ONLY, &["person_id"]].concat(),
            "an offboarding case",
        );
        let end_date = r.optional("end_date", value::date);
        let successor_id = r.optional("successor_id", value::id);
        let notes = r.optional("notes", |v| value::text(v, 4000));
        let Input { problems, .. } = r;
        let (Some(end_date), Some(successor_id), Some(notes)) = (end_date, successor_id, notes)
        else {
            return Err(problems);
        };
        let present = |k: &str| obj.contains_key(k);
        problems.into_result(CasePatch {
            end_date: present("end_date").then_some(end_date),
            successor_id: present("successor_id").then_some(successor_id),
            notes: present("notes").then_some(notes),
        })
    }
}

/// What settling an item says.
#[derive(Clone, Debug, PartialEq)]
pub struct Settlement {
    /// What shows it was done.
    pub evidence: String,
    /// Who takes it over (hand-overs; defaults to the case's successor).
    pub successor_id: Option<Uuid>,
    /// The condition a returned asset came back in (defaults to the evidence).
    pub condition: Option<String>,
    /// When it was done (defaults to now; earlier when recording the past).
    pub settled_at: Option<DateTime<Utc>>,
}

impl Settlement {
    /// Reads a settlement; `evidence` is required.
    pub fn from_input(obj: &Map<String, Value>, now: DateTime<Utc>) -> Result<Self, Problems> {
        let mut r = Input::new(obj);
        r.reject_unknown(
            &["evidence", "successor_id", "condition", "settled_at"],
            &["id", "kind", "status", "title", "settled_by"],
            "a settlement",
        );
        let evidence = r.required("evidence", |v| value::text(v, 4000));
        let successor_id = r.optional("successor_id", value::id);
        let condition = r.optional("condition", |v| value::text(v, 2000));
        let settled_at = r.optional("settled_at", |v| {
            let t = value::timestamp(v)?;
            if t > now {
                Err("must not be in the future".to_string())
            } else {
                Ok(t)
            }
        });
        let Input { problems, .. } = r;
        let (Some(evidence), Some(successor_id), Some(condition), Some(settled_at)) =
            (evidence, successor_id, condition, settled_at)
        else {
            return Err(problems);
        };
        problems.into_result(Settlement {
            evidence,
            successor_id,
            condition,
            settled_at,
        })
    }
}

/// Whether an item of this kind needs a successor to settle.
pub fn needs_successor(kind: ItemKind) -> bool {
    matches!(kind, ItemKind::HandOverAsset | ItemKind::HandOverDelegation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn case(items: Vec<CaseItem>) -> Offboarding {
        crate::fixtures::case(items, NaiveDate::from_ymd_opt(2026, 1, 31))
    }

    #[test]
    fn a_case_closes_only_when_every_item_is_settled() {
        let mut a = CaseItem::open(ItemKind::ReturnAsset, "Return AST-1 Laptop".into());
        let b = CaseItem::open(ItemKind::RevokeAccess, "Revoke access".into());
        let mut c = case(vec![a.clone(), b]);
        let e = c.may_close().unwrap_err();
        assert!(e.starts_with("2 items are still open: Return AST-1 Laptop; Revoke access"));
        for i in &mut c.items {
            i.status = ItemStatus::Settled;
        }
        assert!(c.may_close().is_ok());
        c.status = CaseStatus::Closed;
        assert!(c.may_close().is_err());
        a.status = ItemStatus::Settled;
        assert!(!a.overdue(c.end_date, NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()));
    }

    #[test]
    fn items_open_past_the_end_date_are_overdue() {
        let c = case(vec![CaseItem::open(ItemKind::RevokeAccess, "x".into())]);
        assert!(c.overdue(NaiveDate::from_ymd_opt(2026, 2, 1).unwrap()));
        assert!(!c.overdue(NaiveDate::from_ymd_opt(2026, 1, 31).unwrap()));
    }

    #[test]
    fn a_refresh_adds_only_what_is_new() {
        let mut first = CaseItem::open(ItemKind::HandOverAsset, "a".into());
        first.asset_id = Some(crate::new_id());
        let mut c = case(vec![first.clone()]);
        let mut again = CaseItem::open(ItemKind::HandOverAsset, "a".into());
        again.asset_id = first.asset_id;
        let mut other = CaseItem::open(ItemKind::HandOverAsset, "b".into());
        other.asset_id = Some(crate::new_id());
        assert_eq!(c.add_missing(vec![again, other]), 1);
        assert_eq!(c.items.len(), 2);
        assert_eq!(
            c.add_missing(vec![CaseItem::open(ItemKind::RevokeAccess, "r".into())]),
            1
        );
        assert_eq!(
            c.add_missing(vec![CaseItem::open(ItemKind::RevokeAccess, "r".into())]),
            0
        );
    }

    #[test]
    fn settlements_need_evidence_and_name_every_problem() {
        let now = crate::now();
        let e = Settlement::from_input(
            json!({"successor_id": "x", "colour": 1})
                .as_object()
                .unwrap(),
            now,
        )
        .unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|p| p.field.as_str()).collect();
        assert!(fields.contains(&"evidence"), "{fields:?}");
        assert!(fields.contains(&"successor_id"), "{fields:?}");
        assert!(fields.contains(&"colour"), "{fields:?}");
        let future = (now + chrono::TimeDelta::days(1)).to_rfc3339();
        let e = Settlement::from_input(
            json!({"evidence": "ok", "settled_at": future})
                .as_object()
                .unwrap(),
            now,
        )
        .unwrap_err();
        assert_eq!(e.0[0].field, "settled_at");
    }

    #[test]
    fn a_patch_tells_clearing_from_leaving_alone() {
        let p = CasePatch::from_input(json!({"successor_id": null}).as_object().unwrap()).unwrap();
        assert_eq!(p.successor_id, Some(None));
        assert_eq!(p.end_date, None);
    }
}
