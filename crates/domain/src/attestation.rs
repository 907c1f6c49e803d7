//! Attestation campaigns (SPEC §6.6; ISO/IEC 27001 A.5.9): every owner confirms, at once,
//! that the register's record of their assets is right — or says what is wrong — and the
//! campaign measures how many have.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::Problems;
use crate::input::Input;
use crate::value;

wire_enum! {
    /// Whether a campaign still asks.
    AttestationStatus { Open = "open", Closed = "closed" }
}

wire_enum! {
    /// Where one owner stands in a campaign.
    OwnerResponse {
        /// Not answered yet.
        Pending = "pending",
        /// Every asset is right.
        Confirmed = "confirmed",
        /// Confirmed, with assets named as wrong or not theirs.
        Corrected = "corrected",
    }
}

/// The most assets one answer may name as wrong.
pub const MAX_DISPUTED: usize = 500;

/// One owner asked by a campaign.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct AttestationOwner {
    /// The owner (person, team or role).
    pub owner_id: Uuid,
    /// How many assets (not disposed of) they owned when the campaign opened.
    pub asset_count: i64,
    /// Pending, confirmed or corrected.
    pub status: OwnerResponse,
    /// When they answered.
    pub responded_at: Option<DateTime<Utc>>,
    /// The person who answered.
    pub responded_by: Option<Uuid>,
    /// What they said.
    pub note: Option<String>,
    /// Assets they named as wrong or not theirs.
    pub disputed_asset_ids: Vec<Uuid>,
}

/// An attestation campaign.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Attestation {
    /// Identifier.
    pub id: Uuid,
    /// What it is called ("Asset attestation Q4 2026").
    pub title: String,
    /// The day answers are due.
    pub due_date: NaiveDate,
    /// Open or closed.
    pub status: AttestationStatus,
    /// The person who opened it.
    pub opened_by: Option<Uuid>,
    /// When it closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// The person who closed it.
    pub closed_by: Option<Uuid>,
    /// Every owner asked, in order.
    pub owners: Vec<AttestationOwner>,
    /// Record version for optimistic concurrency.
    pub version: i64,
    /// When it opened.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// How far a campaign has come.
#[derive(Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Completion {
    /// Owners asked.
    pub owners: usize,
    /// Owners who answered.
    pub answered: usize,
    /// Of them, with corrections.
    pub corrected: usize,
    /// Assets covered by the campaign.
    pub assets: i64,
    /// Assets whose owner answered.
    pub assets_attested: i64,
    /// Answered owners as a share of all, 0–100, one decimal.
    pub percent: f64,
}

impl Attestation {
    /// How far it has come.
    pub fn completion(&self) -> Completion {
        let answered: Vec<&AttestationOwner> = self
            .owners
            .iter()
            .filter(|o| o.status != OwnerResponse::Pending)
            .collect();
        let percent = if self.owners.is_empty() {
            100.0
        } else {
            (answered.len() as f64 * 1000.0 / self.owners.len() as f64).round() / 10.0
        };
        Completion {
            owners: self.owners.len(),
            answered: answered.len(),
            corrected: answered
                .iter()
                .filter(|o| o.status == OwnerResponse::Corrected)
                .count(),
            assets: self.owners.iter().map(|o| o.asset_count).sum(),
            // An asset named as wrong is answered for, but not attested.
            assets_attested: answered
                .iter()
                .map(|o| (o.asset_count - o.disputed_asset_ids.len() as i64).max(0))
                .sum(),
            percent,
        }
    }

    /// The record as the audit trail sees it (without the owners).
    pub fn audit_view(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(mut m)) => {
                for k in ["owners", "version", "created_at", "updated_at"] {
                    m.remove(k);
                }
                m
            }
            _ => Map::new(),
        }
    }
}

/// What a request to open a campaign asks for.
#[derive(Clone, Debug, PartialEq)]
pub struct CampaignRequest {
    /// The title.
    pub title: String,
    /// The due date: after today, at most a year away.
    pub due_date: NaiveDate,
}

impl CampaignRequest {
    /// Reads a request to open a campaign.
    pub fn from_input(obj: &Map<String, Value>, today: NaiveDate) -> Result<Self, Problems> {
        let mut r = Input::new(obj);
        r.reject_unknown(
            &["title", "due_date"],
            &[
                "id",
                "status",
                "opened_by",
                "closed_at",
                "closed_by",
                "owners",
                "completion",
                "version",
                "created_at",
                "updated_at",
            ],
            "an attestation campaign",
        );
        let title = r.required("title", |v| value::text(v, 200));
        let due_date = r.required("due_date", |v| {
            let d = value::date(v)?;
            crate::exception::check_expiry(d, today).map(|_| d)
        });
        let Input { problems, .. } = r;
        let (Some(title), Some(due_date)) = (title, due_date) else {
            return Err(problems);
        };
        problems.into_result(CampaignRequest { title, due_date })
    }
}

/// What an owner's answer says.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// The owner answered for.
    pub owner_id: Uuid,
    /// What they say.
    pub note: Option<String>,
    /// Assets that are wrong or not theirs.
    pub disputed_asset_ids: Vec<Uuid>,
}

impl Answer {
    /// Reads an answer; naming assets as wrong needs a note saying what is wrong.
    pub fn from_input(obj: &Map<String, Value>) -> Result<Self, Problems> {
        let mut r = Input::new(obj);
        r.reject_unknown(
            &["owner_id", "note", "disputed_asset_ids"],
            &["status", "responded_at", "responded_by", "asset_count"],
            "an attestation answer",
        );
        let owner_id = r.required("owner_id", value::id);
        let note = r.optional("note", |v| value::text(v, 4000));
        let disputed = r.or_default("disputed_asset_ids", Vec::new(), |v| {
            let Value::Array(items) = v else {
                return Err(format!(
                    "must be a list of asset ids, not {}",
                    value::type_name(v)
                ));
            };
            if items.len() > MAX_DISPUTED {
                return Err(format!("names at most {MAX_DISPUTED} assets"));
            }
            let mut out: Vec<Uuid> = Vec::with_capacity(items.len());
            for (i, x) in items.iter().enumerate() {
                let id = value::id(x).map_err(|m| format!("item {i}: {m}"))?;
                if !out.contains(&id) {
                    out.push(id);
                }
            }
            Ok(out)
        });
        if matches!(&note, Some(None)) && disputed.as_ref().is_some_and(|d| !d.is_empty()) {
            r.add(
                "note",
                "is required when assets are named as wrong: say what is wrong",
            );
        }
        let Input { problems, .. } = r;
        let (Some(owner_id), Some(note), Some(disputed)) = (owner_id, note, disputed) else {
            return Err(problems);
        };
        problems.into_result(Answer {
            owner_id,
            note,
            disputed_asset_ids: disputed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn owner(n: i64, status: OwnerResponse) -> AttestationOwner {
        AttestationOwner {
            owner_id: crate::new_id(),
            asset_count: n,
            status,
            responded_at: None,
            responded_by: None,
            note: None,
            disputed_asset_ids: vec![],
        }
    }

    #[test]
    fn completion_counts_owners_and_their_assets() {
        let now = crate::now();
        let a = Attestation {
            id: crate::new_id(),
            title: "Q4".into(),
            due_date: now.date_naive(),
            status: AttestationStatus::Open,
            opened_by: None,
            closed_at: None,
            closed_by: None,
            owners: vec![
                owner(10, OwnerResponse::Confirmed),
                owner(5, OwnerResponse::Corrected),
                owner(3, OwnerResponse::Pending),
            ],
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let c = a.completion();
        assert_eq!((c.owners, c.answered, c.corrected), (3, 2, 1));
        assert_eq!((c.assets, c.assets_attested), (18, 15));
        assert_eq!(c.percent, 66.7);
        // Assets named as wrong are answered for but not attested.
        let mut a = a;
        a.owners[1].disputed_asset_ids = vec![crate::new_id(), crate::new_id()];
        assert_eq!(a.completion().assets_attested, 13);
    }

    #[test]
    fn an_answer_naming_wrong_assets_says_what_is_wrong() {
        let id = crate::new_id().to_string();
        let e = Answer::from_input(
            json!({"owner_id": id, "disputed_asset_ids": [id]})
                .as_object()
                .unwrap(),
        )
        .unwrap_err();
        assert_eq!(e.0[0].field, "note");
        let ok = Answer::from_input(
            json!({"owner_id": id, "disputed_asset_ids": [id, id], "note": "sold"})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(ok.disputed_asset_ids.len(), 1);
        let e = Answer::from_input(json!({"disputed_asset_ids": "x"}).as_object().unwrap())
            .unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["owner_id", "disputed_asset_ids"]);
    }

    #[test]
    fn a_campaign_is_due_within_a_year() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let e = CampaignRequest::from_input(
            json!({"title": "", "due_date": "2028-01-01"})
                .as_object()
                .unwrap(),
            today,
        )
        .unwrap_err();
        assert_eq!(e.0.len(), 2);
    }
}
