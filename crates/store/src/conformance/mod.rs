//! The conformance suite every storage backend passes, one file per record type.
//!
//! Each check takes a freshly migrated, empty store. Backends instantiate the suite with
//! [`conformance_tests!`](crate::conformance_tests), so a difference between backends
//! shows as a failing test.

use chrono::{NaiveDate, TimeDelta};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use custodian_domain::asset::{
    Asset, AssetContext, AssetDraft, AssetKind, Importance, Relation, RelationType,
};
use custodian_domain::audit::{Actor, ChainVerifier, NewEvent};
use custodian_domain::classification;
use custodian_domain::custody::{Assignment, AssignmentKind, AssignmentOutcome};
use custodian_domain::custom::CustomFieldDef;
use custodian_domain::exception::{ExceptionRule, ExceptionStatus, PolicyException};
use custodian_domain::lifecycle::{DisposalMethod, DisposalRecord, IncidentReport, Status};
use custodian_domain::location::Location;
use custodian_domain::party::{Delegation, Party, PartyKind, PersonStatus};
use custodian_domain::policy::{AckSource, Acknowledgement, PolicyDocument, PolicyVersion};
use custodian_domain::stocktake::{ScanResult, Stocktake, StocktakeScan, StocktakeStatus};

use crate::{
    AcknowledgementQuery, AssetQuery, AssetSort, AssetWrite, AssignmentQuery, AttestationWrite,
    ChangeSet, Cursor, CustodyWrite, DelegationQuery, ExceptionQuery, ExceptionWrite, MatchKey,
    OffboardingWrite, PartyQuery, PartyWrite, PolicyWrite, ReferenceWrite, ScanQuery,
    StocktakeQuery, StocktakeWrite, Store, StoreError, Write,
};

mod assets;
mod audit;
mod cases;
mod changes;
mod compliance;
mod parties;
mod reference;
mod stocktakes;
mod workflows;
pub use assets::*;
pub use audit::*;
pub use cases::*;
pub use changes::*;
pub use compliance::*;
pub use parties::*;
pub use reference::*;
pub use stocktakes::*;
pub use workflows::*;

/// Instantiates every check as a `#[tokio::test]` for a store factory (`async fn() -> Arc<dyn Store>`).
#[macro_export]
macro_rules! conformance_tests {
    ($make:path) => {
        $crate::conformance_tests!(@each $make;
            assets_round_trip, stale_and_missing_updates, asset_numbers_are_reserved_and_unique,
            failed_changes_leave_nothing, keyset_pages_are_stable_under_inserts, asset_filters,
            text_search, relations, parties_teams_and_roles, delegations, locations,
            classifications_and_custom_fields, audit_chain_and_history, audit_chain_cut_by_time, audit_history_filtered, import_matching,
            disposal_and_incident_records, concurrent_commits_fail_alone, search_pages_through_common_words,
            bulk_load_into_empty_register, sorted_lists_page_by_keyset, policy_workflow_records,
            offboarding_and_attestation_records, stocktake_records, compliance_records);
    };
    (@each $make:path; $($name:ident),+) => {
        $(
            #[tokio::test]
            async fn $name() {
                let store = $make().await;
                $crate::conformance::$name(&*store).await;
            }
        )+
    };
}

pub(super) fn ev(action: &str, id: impl ToString) -> NewEvent {
    NewEvent::new(
        &Actor::System,
        action,
        "test",
        id,
        json!({"n": 1}),
        None,
        custodian_domain::now(),
    )
}

pub(super) async fn commit(s: &dyn Store, w: Write) {
    s.commit(ChangeSet::one(w, ev("test.write", "x")))
        .await
        .expect("commit");
}

pub(super) async fn seed_levels(s: &dyn Store) {
    let writes = classification::defaults(custodian_domain::now())
        .into_iter()
        .map(|c| Write::Reference(ReferenceWrite::InsertClassification(c)))
        .collect();
    s.commit(ChangeSet {
        writes,
        events: vec![ev("classification.seeded", "defaults")],
    })
    .await
    .expect("seed levels");
}

pub(super) fn person(name: &str) -> Party {
    let o = json!({"kind": "person", "name": name, "email": format!("{}@example.com", name.to_lowercase().replace(' ', "."))});
    Party::from_input(o.as_object().expect("object"), &[], custodian_domain::now())
        .expect("valid person")
}

pub(super) fn party(v: Value) -> Party {
    Party::from_input(v.as_object().expect("object"), &[], custodian_domain::now())
        .expect("valid party")
}

pub(super) async fn add_person(s: &dyn Store, name: &str) -> Party {
    let p = person(name);
    commit(
        s,
        Write::Party(PartyWrite::InsertParty(Box::new(p.clone()))),
    )
    .await;
    p
}

pub(super) fn asset(owner: Uuid, number: &str, v: Value) -> Asset {
    let keys: Vec<String> = ["public", "internal", "confidential", "restricted"]
        .map(String::from)
        .to_vec();
    let ctx = AssetContext {
        classifications: &keys,
        custom_defs: &[],
        number_prefix: "AST",
    };
    let mut o: Map<String, Value> = json!({"kind": "physical", "name": "Laptop", "owner_id": owner, "importance": "medium", "classification": "internal"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    if let Value::Object(extra) = v {
        o.extend(extra);
    }
    AssetDraft::parse(&o, &ctx)
        .expect("valid asset")
        .into_asset(
            custodian_domain::new_id(),
            number.into(),
            custodian_domain::now(),
        )
}

pub(super) async fn add_asset(s: &dyn Store, owner: Uuid, number: &str, v: Value) -> Asset {
    let a = asset(owner, number, v);
    commit(
        s,
        Write::Asset(AssetWrite::InsertAsset(Box::new(a.clone()))),
    )
    .await;
    a
}

/// An open custody of `asset` by `person`, issued now by `by`.
pub(super) fn custody(asset: Uuid, person: Uuid, by: Uuid) -> Assignment {
    Assignment {
        person_id: Some(person),
        ..Assignment::open(
            asset,
            AssignmentKind::Custody,
            Some(by),
            custodian_domain::now(),
        )
    }
}

pub(super) async fn setup(s: &dyn Store) -> Party {
    seed_levels(s).await;
    add_person(s, "Ada Owner").await
}

pub(super) fn numbers(items: &[Asset]) -> Vec<String> {
    items.iter().map(|a| a.asset_number.clone()).collect()
}

pub(super) async fn list(s: &dyn Store, q: AssetQuery) -> Vec<String> {
    let q = AssetQuery { limit: 500, ..q };
    numbers(&s.list_assets(&q).await.expect("list").items)
}

pub(super) async fn expect_duplicate(s: &dyn Store, w: Write, field: &str) {
    match s.commit(ChangeSet::one(w, ev("x", 1))).await {
        Err(StoreError::Duplicate { field: f, .. }) => assert_eq!(f, field),
        other => panic!("expected a duplicate {field}, got {other:?}"),
    }
}
