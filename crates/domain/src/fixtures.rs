//! Records for the domain's tests, built once.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::asset::{Asset, AssetKind, Importance};
use crate::lifecycle::Status;
use crate::offboarding::{CaseItem, CaseKind, CaseStatus, Offboarding};

/// An asset in use, of `kind` at `level`, with these kind-specific fields.
pub fn asset(kind: AssetKind, level: &str, attrs: Value) -> Asset {
    let now = crate::now();
    Asset {
        id: crate::new_id(),
        asset_number: "AST-000001".into(),
        kind,
        name: "Thing".into(),
        description: None,
        owner_id: crate::new_id(),
        importance: Importance::Medium,
        classification: level.into(),
        status: Status::InUse,
        location_id: None,
        tags: vec![],
        custom: Map::new(),
        external_ids: Map::new(),
        last_reviewed_at: None,
        last_reviewed_by: None,
        next_review_at: None,
        attrs: attrs.as_object().cloned().unwrap_or_default(),
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// An open leaver's case with these items and last day.
pub fn case(items: Vec<CaseItem>, end_date: Option<NaiveDate>) -> Offboarding {
    let now = crate::now();
    Offboarding {
        id: crate::new_id(),
        person_id: crate::new_id(),
        kind: CaseKind::Leaver,
        reason: "entered notice".into(),
        from_party_id: None,
        end_date,
        successor_id: None,
        status: CaseStatus::Open,
        opened_by: None,
        closed_at: None,
        closed_by: None,
        notes: None,
        items,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}
