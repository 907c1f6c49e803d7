//! Custody (SPEC §6.1, §6.3): issuing assets to people, software seats, and the
//! off-premises rule of the classification the asset carries.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::asset::AssetKind;
use crate::classification::{Classification, Handling};
use crate::error::Problems;
use crate::input::Input;
use crate::value;

wire_enum! {
    /// What an assignment gives.
    AssignmentKind {
        /// A physical or virtual asset in one person's custody.
        Custody = "custody",
        /// A seat of a software licence, for a person or a host.
        Seat = "seat",
    }
}

wire_enum! {
    /// How an assignment ended.
    AssignmentOutcome { Returned = "returned", Lost = "lost", Stolen = "stolen" }
}

impl AssignmentKind {
    /// The kind of assignment an asset of this kind takes, or why it takes none.
    pub fn for_asset(kind: AssetKind) -> Result<Self, String> {
        match kind {
            AssetKind::Physical | AssetKind::Virtual => Ok(AssignmentKind::Custody),
            AssetKind::Software => Ok(AssignmentKind::Seat),
            other => Err(format!(
                "a {other} asset is not issued: custody is for physical and virtual assets, seats for software"
            )),
        }
    }
}

/// An asset issued to a person, or a software seat assigned to a person or a host.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Assignment {
    /// Identifier.
    pub id: Uuid,
    /// The asset issued (or the software whose seat this is).
    pub asset_id: Uuid,
    /// Custody or seat.
    pub kind: AssignmentKind,
    /// The holder.
    pub person_id: Option<Uuid>,
    /// The host a seat is installed on (seats only).
    pub host_id: Option<Uuid>,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// The person who issued it.
    pub issued_by: Option<Uuid>,
    /// When it is due back.
    pub expected_return_at: Option<NaiveDate>,
    /// Whether it leaves the premises.
    pub off_premises: bool,
    /// Where it will be.
    pub location_id: Option<Uuid>,
    /// Who approved taking it off the premises, where its classification asks for approval.
    pub approved_by: Option<Uuid>,
    /// The exception that lets it leave although its classification forbids it, or lets it
    /// go to someone who has not acknowledged the acceptable-use policy.
    pub exception_id: Option<Uuid>,
    /// The acceptable-use policy version the holder had acknowledged when it was issued.
    pub policy_id: Option<Uuid>,
    /// What was allowed although a rule warns against it.
    pub warnings: Vec<String>,
    /// Anything said when issuing.
    pub notes: Option<String>,
    /// When it came back (or was reported lost or stolen).
    pub returned_at: Option<DateTime<Utc>>,
    /// The person who took it back.
    pub received_by: Option<Uuid>,
    /// The condition it came back in.
    pub condition: Option<String>,
    /// How it ended.
    pub outcome: Option<AssignmentOutcome>,
    /// Record version for optimistic concurrency.
    pub version: i64,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Assignment {
    /// A new open assignment of `asset` of `kind`, issued at `at` by `by`; the rest blank.
    pub fn open(asset: Uuid, kind: AssignmentKind, by: Option<Uuid>, at: DateTime<Utc>) -> Self {
        Assignment {
            id: crate::new_id(),
            asset_id: asset,
            kind,
            person_id: None,
            host_id: None,
            issued_at: at,
            issued_by: by,
            expected_return_at: None,
            off_premises: false,
            location_id: None,
            approved_by: None,
            exception_id: None,
            policy_id: None,
            warnings: vec![],
            notes: None,
            returned_at: None,
            received_by: None,
            condition: None,
            outcome: None,
            version: 1,
            created_at: at,
            updated_at: at,
        }
    }
}

/// What a request to issue an asset asks for, before the register's rules are applied.
#[derive(Clone, Debug, PartialEq)]
pub struct IssueRequest {
    /// The asset.
    pub asset_id: Uuid,
    /// The holder.
    pub person_id: Option<Uuid>,
    /// The host (seats).
    pub host_id: Option<Uuid>,
    /// When it is due back.
    pub expected_return_at: Option<NaiveDate>,
    /// Whether it leaves the premises (also true when `location_id` is off the premises).
    pub off_premises: bool,
    /// Where it will be.
    pub location_id: Option<Uuid>,
    /// The approver of an off-premises move.
    pub approved_by: Option<Uuid>,
    /// When it was issued (defaults to now; earlier when recording the past).
    pub issued_at: Option<DateTime<Utc>>,
    /// Notes.
    pub notes: Option<String>,
}

impl IssueRequest {
    /// Reads an issue request, naming every problem.
    pub fn from_input(obj: &Map<String, Value>) -> Result<Self, Problems> {
        let mut r = Input::new(obj);
        r.reject_unknown(
            &[
                "asset_id",
                "person_id",
                "host_id",
                "expected_return_at",
                "off_premises",
                "location_id",
                "approved_by",
                "issued_at",
                "notes",
            ],
            &["id", "kind", "version", "created_at", "updated_at"],
            "an assignment",
        );
        let asset_id = r.required("asset_id", value::id);
        let person_id = r.optional("person_id", value::id);
        let host_id = r.optional("host_id", value::id);
        let expected_return_at = r.optional("expected_return_at", value::date);
        let off_premises = r.or_default("off_premises", false, value::boolean);
        let location_id = r.optional("location_id", value::id);
        let approved_by = r.optional("approved_by", value::id);
        let issued_at = r.optional("issued_at", value::timestamp);
        let notes = r.optional("notes", |v| value::text(v, 2000));
        if matches!((&person_id, &host_id), (Some(None), Some(None))) {
            r.add(
                "person_id",
                "is required: the person who holds it (or, for a software seat, host_id)",
            );
        }
        if matches!((&person_id, &host_id), (Some(Some(_)), Some(Some(_)))) {
            r.add("host_id", "a seat goes to a person or to a host, not both");
        }
        let Input { problems, .. } = r;
        let (
            Some(asset_id),
            Some(person_id),
            Some(host_id),
            Some(expected_return_at),
            Some(off_premises),
            Some(location_id),
            Some(approved_by),
            Some(issued_at),
            Some(notes),
        ) = (
            asset_id,
            person_id,
            host_id,
            expected_return_at,
            off_premises,
            location_id,
            approved_by,
            issued_at,
            notes,
        )
        else {
            return Err(problems);
        };
        problems.into_result(IssueRequest {
            asset_id,
            person_id,
            host_id,
            expected_return_at,
            off_premises,
            location_id,
            approved_by,
            issued_at,
            notes,
        })
    }
}

/// What the strictest classification an asset carries says about taking it off the
/// premises, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffPremisesRule {
    /// Allowed, approval required, or forbidden.
    pub handling: Handling,
    /// The level that decides it.
    pub level: String,
    /// Where the level comes from: the asset itself, or the data it stores.
    pub because: String,
}

impl OffPremisesRule {
    /// The rule as a sentence (for refusals and warnings).
    pub fn describe(&self) -> String {
        match self.handling {
            Handling::Allowed => format!("{} may leave the premises", self.because),
            Handling::ApprovalRequired => format!(
                "the {} classification ({}) may leave the premises only with approval: name the approver in approved_by",
                self.level, self.because
            ),
            Handling::Forbidden => format!(
                "the {} classification ({}) forbids taking it off the premises (rule off_premises), and no approved exception covers it",
                self.level, self.because
            ),
        }
    }
}

/// The strictest off-premises rule among the levels an asset carries: `carried` pairs
/// each level with where it comes from ("the asset", "the data it stores: AST-000042").
pub fn off_premises_rule(carried: &[(String, &Classification)]) -> Option<OffPremisesRule> {
    let strictness = |h: Handling| match h {
        Handling::Allowed => 0,
        Handling::ApprovalRequired => 1,
        Handling::Forbidden => 2,
    };
    carried
        .iter()
        .max_by_key(|(_, l)| (strictness(l.off_premises), l.rank))
        .map(|(because, l)| OffPremisesRule {
            handling: l.off_premises,
            level: l.key.clone(),
            because: because.clone(),
        })
}

/// Reads a return: `{"condition": …, "returned_at": …}`.
pub fn return_input(
    obj: &Map<String, Value>,
) -> Result<(Option<String>, Option<DateTime<Utc>>), Problems> {
    let mut r = Input::new(obj);
    r.reject_unknown(&["condition", "returned_at"], &[], "a return");
    let condition = r.optional("condition", |v| value::text(v, 2000));
    let returned_at = r.optional("returned_at", value::timestamp);
    let Input { problems, .. } = r;
    match (condition, returned_at) {
        (Some(c), Some(t)) => problems.into_result((c, t)),
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn an_issue_names_its_holder_once() {
        let e = IssueRequest::from_input(&obj(json!({"asset_id": "x"}))).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert!(fields.contains(&"asset_id") && fields.contains(&"person_id"));
        let id = crate::new_id().to_string();
        let e = IssueRequest::from_input(&obj(
            json!({"asset_id": id, "person_id": id, "host_id": id}),
        ))
        .unwrap_err();
        assert_eq!(e.0[0].field, "host_id");
        let ok = IssueRequest::from_input(&obj(
            json!({"asset_id": id, "person_id": id, "off_premises": true, "expected_return_at": "2027-01-01"}),
        ))
        .unwrap();
        assert!(ok.off_premises);
    }

    #[test]
    fn only_devices_and_software_are_issued() {
        assert_eq!(
            AssignmentKind::for_asset(AssetKind::Physical),
            Ok(AssignmentKind::Custody)
        );
        assert_eq!(
            AssignmentKind::for_asset(AssetKind::Software),
            Ok(AssignmentKind::Seat)
        );
        assert!(AssignmentKind::for_asset(AssetKind::Data)
            .unwrap_err()
            .contains("not issued"));
    }

    #[test]
    fn the_strictest_level_carried_decides() {
        let levels = crate::classification::defaults(crate::now());
        let mut secret = levels[3].clone();
        secret.key = "secret".into();
        secret.off_premises = Handling::Forbidden;
        let rule = off_premises_rule(&[
            ("the asset".into(), &levels[0]),
            ("the data it stores: AST-000002".into(), &levels[3]),
        ])
        .unwrap();
        assert_eq!(rule.handling, Handling::ApprovalRequired);
        assert_eq!(rule.level, "restricted");
        let rule = off_premises_rule(&[
            ("the asset".into(), &secret),
            ("the data it stores".into(), &levels[3]),
        ])
        .unwrap();
        assert_eq!(rule.handling, Handling::Forbidden);
        assert!(rule.describe().contains("forbids"));
    }
}
