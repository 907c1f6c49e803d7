//! The conformance suite every storage backend passes.
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
    AcknowledgementQuery, AssetQuery, AssetSort, AssignmentQuery, ChangeSet, Cursor,
    DelegationQuery, ExceptionQuery, MatchKey, PartyQuery, ScanQuery, StocktakeQuery, Store,
    StoreError, Write,
};

/// Instantiates every check as a `#[tokio::test]` for a store factory (`async fn() -> Arc<dyn Store>`).
#[macro_export]
macro_rules! conformance_tests {
    ($make:path) => {
        $crate::conformance_tests!(@each $make;
            assets_round_trip, stale_and_missing_updates, asset_numbers_are_reserved_and_unique,
            failed_changes_leave_nothing, keyset_pages_are_stable_under_inserts, asset_filters,
            text_search, relations, parties_teams_and_roles, delegations, locations,
            classifications_and_custom_fields, audit_chain_and_history, import_matching,
            disposal_and_incident_records, concurrent_commits_fail_alone, search_pages_through_common_words,
            bulk_load_into_empty_register, sorted_lists_page_by_keyset, policy_workflow_records,
            offboarding_and_attestation_records, stocktake_records);
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

fn ev(action: &str, id: impl ToString) -> NewEvent {
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

async fn commit(s: &dyn Store, w: Write) {
    s.commit(ChangeSet::one(w, ev("test.write", "x")))
        .await
        .expect("commit");
}

async fn seed_levels(s: &dyn Store) {
    let writes = classification::defaults(custodian_domain::now())
        .into_iter()
        .map(Write::InsertClassification)
        .collect();
    s.commit(ChangeSet {
        writes,
        events: vec![ev("classification.seeded", "defaults")],
    })
    .await
    .expect("seed levels");
}

fn person(name: &str) -> Party {
    let o = json!({"kind": "person", "name": name, "email": format!("{}@example.com", name.to_lowercase().replace(' ', "."))});
    Party::from_input(o.as_object().expect("object"), &[], custodian_domain::now())
        .expect("valid person")
}

fn party(v: Value) -> Party {
    Party::from_input(v.as_object().expect("object"), &[], custodian_domain::now())
        .expect("valid party")
}

async fn add_person(s: &dyn Store, name: &str) -> Party {
    let p = person(name);
    commit(s, Write::InsertParty(Box::new(p.clone()))).await;
    p
}

fn asset(owner: Uuid, number: &str, v: Value) -> Asset {
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

async fn add_asset(s: &dyn Store, owner: Uuid, number: &str, v: Value) -> Asset {
    let a = asset(owner, number, v);
    commit(s, Write::InsertAsset(Box::new(a.clone()))).await;
    a
}

async fn setup(s: &dyn Store) -> Party {
    seed_levels(s).await;
    add_person(s, "Ada Owner").await
}

fn numbers(items: &[Asset]) -> Vec<String> {
    items.iter().map(|a| a.asset_number.clone()).collect()
}

async fn list(s: &dyn Store, q: AssetQuery) -> Vec<String> {
    let q = AssetQuery { limit: 500, ..q };
    numbers(&s.list_assets(&q).await.expect("list").items)
}

/// An asset comes back exactly as written, by id and by number.
pub async fn assets_round_trip(s: &dyn Store) {
    let owner = setup(s).await;
    let a = add_asset(
        s,
        owner.id,
        "AST-000001",
        json!({"description": "Ada's laptop", "serial_number": "SN-1", "ip_addresses": ["10.0.0.1"], "encrypted": true,
               "tags": ["finance", "laptop"], "external_ids": {"mdm": "M-1"}, "last_reviewed_at": "2026-01-02T03:04:05.123456Z",
               "last_reviewed_by": owner.id, "next_review_at": "2026-07-01", "purchase_cost": 1234.5}),
    )
    .await;
    let got = s.asset(a.id).await.expect("get").expect("present");
    assert_eq!(got, a);
    assert_eq!(
        s.asset_by_number("AST-000001").await.expect("get").as_ref(),
        Some(&a)
    );
    assert_eq!(
        s.asset(custodian_domain::new_id()).await.expect("get"),
        None
    );
    assert_eq!(s.count_assets().await.expect("count"), 1);
}

/// An update based on an old version is refused and changes nothing.
pub async fn stale_and_missing_updates(s: &dyn Store) {
    let owner = setup(s).await;
    let a = add_asset(s, owner.id, "AST-000001", json!({})).await;
    let mut b = a.clone();
    b.name = "Renamed".into();
    b.version = 2;
    b.tags = vec!["new".into()];
    commit(
        s,
        Write::UpdateAsset {
            asset: Box::new(b.clone()),
            expected_version: 1,
        },
    )
    .await;
    assert_eq!(s.asset(a.id).await.expect("get"), Some(b.clone()));
    let mut c = b.clone();
    c.name = "Lost update".into();
    c.version = 3;
    let err = s
        .commit(ChangeSet::one(
            Write::UpdateAsset {
                asset: Box::new(c.clone()),
                expected_version: 1,
            },
            ev("x", 1),
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Stale { .. }), "{err:?}");
    assert_eq!(
        s.asset(a.id).await.expect("get").map(|a| a.name),
        Some("Renamed".into())
    );
    c.id = custodian_domain::new_id();
    let err = s
        .commit(ChangeSet::one(
            Write::UpdateAsset {
                asset: Box::new(c),
                expected_version: 1,
            },
            ev("x", 1),
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    assert_eq!(
        list(
            s,
            AssetQuery {
                tag: Some("new".into()),
                ..Default::default()
            }
        )
        .await,
        ["AST-000001"]
    );
}

/// Reserved numbers skip those already taken; a taken number is refused.
pub async fn asset_numbers_are_reserved_and_unique(s: &dyn Store) {
    let owner = setup(s).await;
    add_asset(s, owner.id, "AST-000002", json!({})).await;
    let mut tx = s.begin().await.expect("begin");
    let got = tx.reserve_asset_numbers("AST", 3).await.expect("reserve");
    assert_eq!(got, ["AST-000001", "AST-000003", "AST-000004"]);
    tx.commit().await.expect("commit");
    let mut tx = s.begin().await.expect("begin");
    assert_eq!(
        tx.reserve_asset_numbers("AST", 1).await.expect("reserve"),
        ["AST-000005"]
    );
    assert_eq!(
        tx.reserve_asset_numbers("HW", 1).await.expect("reserve"),
        ["HW-000001"]
    );
    tx.rollback().await.expect("rollback");
    let dup = asset(owner.id, "AST-000002", json!({}));
    let err = s
        .commit(ChangeSet::one(
            Write::InsertAsset(Box::new(dup)),
            ev("x", 1),
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Duplicate {
                field: "asset_number",
                ..
            }
        ),
        "{err:?}"
    );
}

/// A change set that fails, or a transaction rolled back, leaves no row and no event.
pub async fn failed_changes_leave_nothing(s: &dyn Store) {
    let owner = setup(s).await;
    let head = s.audit_head().await.expect("head");
    let a = asset(owner.id, "AST-000001", json!({}));
    let b = asset(owner.id, "AST-000001", json!({}));
    let cs = ChangeSet {
        writes: vec![
            Write::InsertAsset(Box::new(a.clone())),
            Write::InsertAsset(Box::new(b)),
        ],
        events: vec![ev("a", 1), ev("b", 2)],
    };
    assert!(s.commit(cs).await.is_err());
    assert_eq!(s.asset(a.id).await.expect("get"), None);
    assert_eq!(s.audit_head().await.expect("head"), head);
    let mut tx = s.begin().await.expect("begin");
    tx.apply(ChangeSet::one(
        Write::InsertAsset(Box::new(a.clone())),
        ev("a", 1),
    ))
    .await
    .expect("apply");
    tx.rollback().await.expect("rollback");
    assert_eq!(s.asset(a.id).await.expect("get"), None);
    assert_eq!(s.audit_head().await.expect("head"), head);
    let err = s
        .commit(ChangeSet {
            writes: vec![Write::InsertAsset(Box::new(a.clone()))],
            events: vec![],
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Other(_)),
        "a write without an event is refused: {err:?}"
    );
}

/// Pages continue where they stopped even when rows are added meanwhile.
pub async fn keyset_pages_are_stable_under_inserts(s: &dyn Store) {
    let owner = setup(s).await;
    let mut want = Vec::new();
    let batch: Vec<Asset> = (1..=25)
        .map(|i| asset(owner.id, &format!("AST-{i:06}"), json!({})))
        .collect();
    want.extend(numbers(&batch));
    let events = batch.iter().map(|a| ev("asset.created", a.id)).collect();
    s.commit(ChangeSet {
        writes: batch
            .into_iter()
            .map(|a| Write::InsertAsset(Box::new(a)))
            .collect(),
        events,
    })
    .await
    .expect("bulk");
    let mut seen = Vec::new();
    let mut cursor: Option<Cursor> = None;
    let mut pages = 0;
    loop {
        let p = s
            .list_assets(&AssetQuery {
                limit: 10,
                cursor,
                ..Default::default()
            })
            .await
            .expect("page");
        seen.extend(numbers(&p.items));
        pages += 1;
        if pages == 1 {
            add_asset(s, owner.id, "AST-000100", json!({})).await;
        }
        match p.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    want.push("AST-000100".into());
    assert_eq!(seen, want);
    assert_eq!(pages, 3);
}

/// Every list filter narrows the list, alone and combined.
pub async fn asset_filters(s: &dyn Store) {
    let owner = setup(s).await;
    let other = add_person(s, "Bob Other").await;
    let site = Location::from_input(
        json!({"name": "HQ"}).as_object().expect("object"),
        &[],
        custodian_domain::now(),
    )
    .expect("location");
    commit(s, Write::InsertLocation(site.clone())).await;
    let today = NaiveDate::from_ymd_opt(2026, 6, 1).expect("date");
    add_asset(
        s,
        owner.id,
        "AST-000001",
        json!({"tags": ["a"], "next_review_at": "2026-05-01", "location_id": site.id}),
    )
    .await;
    add_asset(s, owner.id, "AST-000002", json!({"kind": "data", "importance": "high", "classification": "restricted", "tags": ["a", "b"]})).await;
    add_asset(
        s,
        other.id,
        "AST-000003",
        json!({"status": "in_stock", "next_review_at": "2026-06-01"}),
    )
    .await;
    let all = |q: AssetQuery| list(s, q);
    assert_eq!(
        all(AssetQuery {
            kind: Some(AssetKind::Data),
            ..Default::default()
        })
        .await,
        ["AST-000002"]
    );
    assert_eq!(
        all(AssetQuery {
            status: Some(Status::InStock),
            ..Default::default()
        })
        .await,
        ["AST-000003"]
    );
    assert_eq!(
        all(AssetQuery {
            owner_id: Some(owner.id),
            ..Default::default()
        })
        .await,
        ["AST-000001", "AST-000002"]
    );
    assert_eq!(
        all(AssetQuery {
            classification: Some("restricted".into()),
            ..Default::default()
        })
        .await,
        ["AST-000002"]
    );
    assert_eq!(
        all(AssetQuery {
            importance: Some(Importance::High),
            ..Default::default()
        })
        .await,
        ["AST-000002"]
    );
    assert_eq!(
        all(AssetQuery {
            tag: Some("a".into()),
            ..Default::default()
        })
        .await,
        ["AST-000001", "AST-000002"]
    );
    assert_eq!(
        all(AssetQuery {
            tag: Some("a".into()),
            kind: Some(AssetKind::Physical),
            ..Default::default()
        })
        .await,
        ["AST-000001"]
    );
    assert_eq!(
        all(AssetQuery {
            location_id: Some(site.id),
            ..Default::default()
        })
        .await,
        ["AST-000001"]
    );
    assert_eq!(
        all(AssetQuery {
            review_overdue: Some(today),
            ..Default::default()
        })
        .await,
        ["AST-000001"]
    );
    assert!(all(AssetQuery {
        tag: Some("zzz".into()),
        ..Default::default()
    })
    .await
    .is_empty());
    let p = s
        .list_assets(&AssetQuery {
            limit: 1,
            tag: Some("a".into()),
            ..Default::default()
        })
        .await
        .expect("page");
    let p2 = s
        .list_assets(&AssetQuery {
            limit: 1,
            tag: Some("a".into()),
            cursor: p.next_cursor,
            ..Default::default()
        })
        .await
        .expect("page");
    assert_eq!(numbers(&p2.items), ["AST-000002"]);
}

/// `q` matches word prefixes of number, name, description, serial and tags.
pub async fn text_search(s: &dyn Store) {
    let owner = setup(s).await;
    add_asset(
        s,
        owner.id,
        "AST-000001",
        json!({"name": "Dell Latitude 5440", "serial_number": "CN0X7H"}),
    )
    .await;
    add_asset(
        s,
        owner.id,
        "AST-000002",
        json!({"name": "MacBook Pro", "description": "Design team laptop", "tags": ["design"]}),
    )
    .await;
    add_asset(
        s,
        owner.id,
        "AST-000003",
        json!({"kind": "data", "name": "Payroll records"}),
    )
    .await;
    let q = |t: &str| {
        list(
            s,
            AssetQuery {
                q: Some(t.into()),
                ..Default::default()
            },
        )
    };
    assert_eq!(q("latitude").await, ["AST-000001"]);
    assert_eq!(q("LAT").await, ["AST-000001"]);
    assert_eq!(q("cn0x").await, ["AST-000001"]);
    assert_eq!(q("design").await, ["AST-000002"]);
    assert_eq!(q("macbook design").await, ["AST-000002"]);
    assert_eq!(q("000003").await, ["AST-000003"]);
    assert!(q("nothing").await.is_empty());
    assert!(q("--").await.is_empty());
    assert_eq!(
        list(
            s,
            AssetQuery {
                q: Some("ast".into()),
                kind: Some(AssetKind::Data),
                ..Default::default()
            }
        )
        .await,
        ["AST-000003"]
    );
    let p = s
        .list_assets(&AssetQuery {
            limit: 2,
            q: Some("ast".into()),
            ..Default::default()
        })
        .await
        .expect("page");
    assert_eq!(numbers(&p.items), ["AST-000001", "AST-000002"]);
    let p = s
        .list_assets(&AssetQuery {
            limit: 2,
            q: Some("ast".into()),
            cursor: p.next_cursor,
            ..Default::default()
        })
        .await
        .expect("page");
    assert_eq!(numbers(&p.items), ["AST-000003"]);
    assert!(p.next_cursor.is_none());
}

/// Links are stored once per type and found from both ends.
pub async fn relations(s: &dyn Store) {
    let owner = setup(s).await;
    let laptop = add_asset(s, owner.id, "AST-000001", json!({})).await;
    let data = add_asset(s, owner.id, "AST-000002", json!({"kind": "data"})).await;
    let r = Relation {
        id: custodian_domain::new_id(),
        from_id: laptop.id,
        to_id: data.id,
        relation_type: RelationType::Stores,
        created_at: custodian_domain::now(),
    };
    commit(s, Write::InsertRelation(r.clone())).await;
    assert_eq!(
        s.relations_of(&[data.id]).await.expect("rels"),
        vec![r.clone()]
    );
    assert_eq!(
        s.relations_of(&[laptop.id, data.id]).await.expect("rels"),
        vec![r.clone()]
    );
    assert_eq!(s.relation(r.id).await.expect("rel"), Some(r.clone()));
    let dup = Relation {
        id: custodian_domain::new_id(),
        ..r.clone()
    };
    let err = s
        .commit(ChangeSet::one(Write::InsertRelation(dup), ev("x", 1)))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate { .. }), "{err:?}");
    commit(s, Write::DeleteRelation(r.id)).await;
    assert!(s.relations_of(&[data.id]).await.expect("rels").is_empty());
    let err = s
        .commit(ChangeSet::one(Write::DeleteRelation(r.id), ev("x", 1)))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}

/// Persons, teams with members and roles with holders share one id space.
pub async fn parties_teams_and_roles(s: &dyn Store) {
    let ada = add_person(s, "Ada Lovelace").await;
    let bob = add_person(s, "Bob Byte").await;
    let team = party(json!({"kind": "team", "name": "IT", "member_ids": [ada.id, bob.id]}));
    let role = party(json!({"kind": "role", "name": "DPO", "holder_id": ada.id}));
    commit(s, Write::InsertParty(Box::new(team.clone()))).await;
    commit(s, Write::InsertParty(Box::new(role.clone()))).await;
    assert_eq!(s.party(team.id).await.expect("get"), Some(team.clone()));
    assert_eq!(s.party(role.id).await.expect("get"), Some(role.clone()));
    let mut t2 = team.clone();
    t2.member_ids = vec![bob.id];
    t2.version = 2;
    commit(
        s,
        Write::UpdateParty {
            party: Box::new(t2.clone()),
            expected_version: 1,
        },
    )
    .await;
    assert_eq!(
        s.party(team.id).await.expect("get").map(|t| t.member_ids),
        Some(vec![bob.id])
    );
    let mut left = bob.clone();
    left.status = Some(PersonStatus::Left);
    left.version = 2;
    commit(
        s,
        Write::UpdateParty {
            party: Box::new(left),
            expected_version: 1,
        },
    )
    .await;
    let names = |p: crate::Page<Party>| p.items.into_iter().map(|p| p.name).collect::<Vec<_>>();
    assert_eq!(
        names(
            s.list_parties(&PartyQuery {
                limit: 50,
                kind: Some(PartyKind::Person),
                ..Default::default()
            })
            .await
            .expect("list")
        ),
        ["Ada Lovelace", "Bob Byte"]
    );
    assert_eq!(
        names(
            s.list_parties(&PartyQuery {
                limit: 50,
                status: Some(PersonStatus::Left),
                ..Default::default()
            })
            .await
            .expect("list")
        ),
        ["Bob Byte"]
    );
    assert_eq!(
        names(
            s.list_parties(&PartyQuery {
                limit: 50,
                q: Some("LOVE".into()),
                ..Default::default()
            })
            .await
            .expect("list")
        ),
        ["Ada Lovelace"]
    );
    assert_eq!(
        names(
            s.list_parties(&PartyQuery {
                limit: 50,
                q: Some("bob.byte@".into()),
                ..Default::default()
            })
            .await
            .expect("list")
        ),
        ["Bob Byte"]
    );
    assert_eq!(s.party_directory().await.expect("dir").len(), 4);
    assert_eq!(s.parties(&[ada.id, team.id]).await.expect("many").len(), 2);
    let dup = person("Ada Lovelace");
    let err = s
        .commit(ChangeSet::one(
            Write::InsertParty(Box::new(dup)),
            ev("x", 1),
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Duplicate { field: "email", .. }),
        "{err:?}"
    );
}

/// Delegations are recorded, listed and ended.
pub async fn delegations(s: &dyn Store) {
    let ada = add_person(s, "Ada").await;
    let bob = add_person(s, "Bob").await;
    let d = Delegation::from_input(
        json!({"owner_id": ada.id, "delegate_id": bob.id, "task": "review"})
            .as_object()
            .expect("object"),
        custodian_domain::now(),
    )
    .expect("valid");
    commit(s, Write::InsertDelegation(d.clone())).await;
    assert_eq!(s.delegation(d.id).await.expect("get"), Some(d.clone()));
    let by_owner = s
        .list_delegations(&DelegationQuery {
            limit: 10,
            owner_id: Some(ada.id),
            active_only: true,
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(by_owner.items, vec![d.clone()]);
    commit(
        s,
        Write::EndDelegation {
            id: d.id,
            ended_at: custodian_domain::now(),
            reason: "left".into(),
        },
    )
    .await;
    let active = s
        .list_delegations(&DelegationQuery {
            limit: 10,
            delegate_id: Some(bob.id),
            active_only: true,
            ..Default::default()
        })
        .await
        .expect("list");
    assert!(active.items.is_empty());
    let ended = s.delegation(d.id).await.expect("get").expect("present");
    assert_eq!(ended.end_reason.as_deref(), Some("left"));
    let err = s
        .commit(ChangeSet::one(
            Write::EndDelegation {
                id: d.id,
                ended_at: custodian_domain::now(),
                reason: "again".into(),
            },
            ev("x", 1),
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}

/// Locations form a tree and are versioned.
pub async fn locations(s: &dyn Store) {
    let now = custodian_domain::now();
    let site = Location::from_input(
        json!({"name": "HQ", "kind": "site", "address": "1 Main St"})
            .as_object()
            .expect("object"),
        &[],
        now,
    )
    .expect("valid");
    let room = Location::from_input(
        json!({"name": "Server room", "kind": "room", "parent_id": site.id})
            .as_object()
            .expect("object"),
        &[],
        now,
    )
    .expect("valid");
    commit(s, Write::InsertLocation(site.clone())).await;
    commit(s, Write::InsertLocation(room.clone())).await;
    assert_eq!(s.location(room.id).await.expect("get"), Some(room.clone()));
    let moved = room
        .patched(
            json!({"on_premises": false}).as_object().expect("object"),
            &[],
            now,
        )
        .expect("valid");
    commit(
        s,
        Write::UpdateLocation {
            location: moved.clone(),
            expected_version: 1,
        },
    )
    .await;
    assert_eq!(s.location(room.id).await.expect("get"), Some(moved));
    let p = s.list_locations(1, None).await.expect("list");
    assert_eq!(p.items, vec![site]);
    let p = s.list_locations(1, p.next_cursor).await.expect("list");
    assert_eq!(p.items.len(), 1);
    assert!(p.next_cursor.is_none());
    let orphan = Location::from_input(
        json!({"name": "Nowhere", "parent_id": custodian_domain::new_id()})
            .as_object()
            .expect("object"),
        &[],
        now,
    )
    .expect("valid");
    let err = s
        .commit(ChangeSet::one(Write::InsertLocation(orphan), ev("x", 1)))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Reference(_)), "{err:?}");
}

/// The scheme is ordered by rank; a level in use cannot be deleted; custom field keys are unique.
pub async fn classifications_and_custom_fields(s: &dyn Store) {
    let owner = setup(s).await;
    let levels = s.classifications().await.expect("levels");
    assert_eq!(
        levels,
        classification::defaults(levels[0].created_at)
            .into_iter()
            .map(|mut l| {
                l.created_at = levels[0].created_at;
                l.updated_at = levels[0].updated_at;
                l
            })
            .collect::<Vec<_>>()
    );
    let renamed = levels[2]
        .patched(
            json!({"name": "Company confidential"})
                .as_object()
                .expect("object"),
            custodian_domain::now(),
        )
        .expect("valid");
    commit(
        s,
        Write::UpdateClassification {
            level: renamed.clone(),
            expected_version: 1,
        },
    )
    .await;
    assert_eq!(
        s.classifications().await.expect("levels")[2].name,
        "Company confidential"
    );
    let err = s
        .commit(ChangeSet::one(
            Write::UpdateClassification {
                level: renamed,
                expected_version: 1,
            },
            ev("x", 1),
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Stale { .. }), "{err:?}");
    add_asset(
        s,
        owner.id,
        "AST-000001",
        json!({"classification": "public"}),
    )
    .await;
    assert_eq!(s.classification_usage("public").await.expect("usage"), 1);
    let err = s
        .commit(ChangeSet::one(
            Write::DeleteClassification("public".into()),
            ev("x", 1),
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Reference(_)), "{err:?}");
    commit(s, Write::DeleteClassification("restricted".into())).await;
    assert_eq!(s.classifications().await.expect("levels").len(), 3);
    let def = CustomFieldDef::from_input(json!({"entity_type": "asset", "key": "cost_centre", "label": "Cost centre", "field_type": "choice", "choices": ["A", "B"]}).as_object().expect("object"), custodian_domain::now()).expect("valid");
    commit(s, Write::InsertCustomField(def.clone())).await;
    assert_eq!(s.custom_fields().await.expect("defs"), vec![def.clone()]);
    let again = CustomFieldDef {
        id: custodian_domain::new_id(),
        ..def.clone()
    };
    let err = s
        .commit(ChangeSet::one(Write::InsertCustomField(again), ev("x", 1)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Duplicate { field: "key", .. }),
        "{err:?}"
    );
    commit(s, Write::DeleteCustomField(def.id)).await;
    assert!(s.custom_fields().await.expect("defs").is_empty());
}

/// Events are numbered without gaps, chained, and found per entity.
pub async fn audit_chain_and_history(s: &dyn Store) {
    let owner = setup(s).await;
    let a = add_asset(s, owner.id, "AST-000001", json!({})).await;
    let mut events = Vec::new();
    for i in 0..7 {
        let mut e = NewEvent::new(
            &Actor::Local,
            "asset.updated",
            "asset",
            a.id,
            json!({"name": {"before": i, "after": i + 1}, "price": 1.5}),
            Some("req-1"),
            custodian_domain::now(),
        );
        e.occurred_at += TimeDelta::microseconds(i);
        events.push(e);
    }
    s.commit(ChangeSet {
        writes: vec![],
        events,
    })
    .await
    .expect("events");
    let h = s
        .history("asset", &a.id.to_string(), 5, None)
        .await
        .expect("history");
    assert_eq!(h.items.len(), 5);
    assert!(h
        .items
        .iter()
        .all(|e| e.entity_id == a.id.to_string() && e.action == "asset.updated"));
    assert_eq!(h.items[0].request_id.as_deref(), Some("req-1"));
    let h2 = s
        .history("asset", &a.id.to_string(), 5, h.next_cursor)
        .await
        .expect("history");
    assert_eq!(h2.items.len(), 2);
    assert!(h2.next_cursor.is_none());
    let (head_seq, head_hash) = s.audit_head().await.expect("head");
    let mut v = ChainVerifier::default();
    let mut after = 0;
    loop {
        let batch = s.events_after(after, 3).await.expect("events");
        if batch.is_empty() {
            break;
        }
        for e in &batch {
            v.feed(e).expect("intact chain");
            after = e.seq;
        }
    }
    v.finish(head_seq, &head_hash).expect("head matches");
    assert_eq!(v.checked as i64, head_seq);
    assert!(head_seq >= 10);
}

/// Imports find existing assets by number, serial, id or external id.
pub async fn import_matching(s: &dyn Store) {
    let owner = setup(s).await;
    let a = add_asset(
        s,
        owner.id,
        "AST-000001",
        json!({"serial_number": "SN-1", "external_ids": {"mdm": "M-1"}}),
    )
    .await;
    add_asset(
        s,
        owner.id,
        "AST-000002",
        json!({"serial_number": "SN-2", "external_ids": {"mdm": "M-2", "cloud": "i-9"}}),
    )
    .await;
    let mut tx = s.begin().await.expect("begin");
    let find = |k| k;
    let by = |v: Vec<Asset>| numbers(&v);
    assert_eq!(
        by(tx
            .find_assets(
                find(MatchKey::AssetNumber),
                &["AST-000001".into(), "AST-000009".into()]
            )
            .await
            .expect("find")),
        ["AST-000001"]
    );
    assert_eq!(
        by(tx
            .find_assets(MatchKey::SerialNumber, &["SN-2".into()])
            .await
            .expect("find")),
        ["AST-000002"]
    );
    assert_eq!(
        by(tx
            .find_assets(MatchKey::Id, &[a.id.to_string(), "not-an-id".into()])
            .await
            .expect("find")),
        ["AST-000001"]
    );
    assert_eq!(
        by(tx
            .find_assets(
                MatchKey::ExternalId,
                &["cloud:i-9".into(), "mdm:M-1".into()]
            )
            .await
            .expect("find"))
        .len(),
        2
    );
    assert_eq!(
        tx.taken_asset_numbers(&["AST-000002".into(), "AST-000003".into()])
            .await
            .expect("taken"),
        ["AST-000002"]
    );
    tx.rollback().await.expect("rollback");
    let dup = asset(
        owner.id,
        "AST-000003",
        json!({"external_ids": {"mdm": "M-1"}}),
    );
    let err = s
        .commit(ChangeSet::one(
            Write::InsertAsset(Box::new(dup)),
            ev("x", 1),
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Duplicate {
                field: "external_ids",
                ..
            }
        ),
        "{err:?}"
    );
}

/// Disposal records and incident reports are kept with their asset.
pub async fn disposal_and_incident_records(s: &dyn Store) {
    let owner = setup(s).await;
    let a = add_asset(s, owner.id, "AST-000001", json!({})).await;
    let d = DisposalRecord {
        asset_id: a.id,
        method: DisposalMethod::Destroy,
        performed_by: "Shred Co".into(),
        performed_at: custodian_domain::now(),
        certificate_ref: Some("CERT-1".into()),
        verified_by: Some("Ada".into()),
        notes: None,
    };
    commit(s, Write::InsertDisposal(d.clone())).await;
    assert_eq!(s.disposal(a.id).await.expect("get"), Some(d.clone()));
    let err = s
        .commit(ChangeSet::one(Write::InsertDisposal(d), ev("x", 1)))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate { .. }), "{err:?}");
    let i = IncidentReport {
        asset_id: a.id,
        status: Status::Lost,
        reported_at: custodian_domain::now(),
        incident_ref: Some("INC-1".into()),
        notes: Some("train".into()),
    };
    commit(s, Write::InsertIncident(i.clone())).await;
    assert_eq!(s.incidents(a.id).await.expect("get"), vec![i.clone()]);
    // A holder's report awaits its reference; adding it touches only reports without one.
    let awaiting = IncidentReport {
        incident_ref: None,
        status: Status::Stolen,
        ..i.clone()
    };
    commit(s, Write::InsertIncident(awaiting.clone())).await;
    commit(
        s,
        Write::SetIncidentRef {
            asset_id: a.id,
            incident_ref: "INC-2".into(),
        },
    )
    .await;
    let both = s.incidents(a.id).await.expect("get");
    assert_eq!(both[0], i);
    assert_eq!(both[1].incident_ref.as_deref(), Some("INC-2"));
}

/// Change sets committed at the same time all land, except the bad one, which fails alone;
/// the chain stays whole.
pub async fn concurrent_commits_fail_alone(s: &dyn Store) {
    let owner = setup(s).await;
    add_asset(s, owner.id, "AST-000000", json!({})).await;
    let mut sets: Vec<ChangeSet> = (1..=30)
        .map(|i| {
            let a = asset(owner.id, &format!("AST-{i:06}"), json!({}));
            ChangeSet::one(
                Write::InsertAsset(Box::new(a.clone())),
                ev("asset.created", a.id),
            )
        })
        .collect();
    let dup = asset(owner.id, "AST-000000", json!({}));
    sets.insert(
        15,
        ChangeSet::one(
            Write::InsertAsset(Box::new(dup)),
            ev("asset.created", "dup"),
        ),
    );
    // A change without its event is refused even when it arrives among others.
    let silent = asset(owner.id, "AST-999999", json!({}));
    sets.insert(
        20,
        ChangeSet {
            writes: vec![Write::InsertAsset(Box::new(silent.clone()))],
            events: vec![],
        },
    );
    let results = futures_util::future::join_all(sets.into_iter().map(|cs| s.commit(cs))).await;
    let failed: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_err())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(s.asset(silent.id).await.expect("get"), None);
    assert_eq!(failed, [15, 20], "{results:?}");
    assert!(matches!(
        results[15],
        Err(StoreError::Duplicate {
            field: "asset_number",
            ..
        })
    ));
    assert_eq!(s.count_assets().await.expect("count"), 31);
    let (head, hash) = s.audit_head().await.expect("head");
    let mut v = ChainVerifier::default();
    for e in s.events_after(0, 1000).await.expect("events") {
        v.feed(&e).expect("intact chain");
    }
    v.finish(head, &hash).expect("head matches");
}

/// A word that thousands of assets share still pages in order, without gaps or repeats.
pub async fn search_pages_through_common_words(s: &dyn Store) {
    let owner = setup(s).await;
    let batch: Vec<Asset> = (1..=2100)
        .map(|i| {
            asset(
                owner.id,
                &format!("AST-{i:06}"),
                json!({"name": format!("Widget {i}")}),
            )
        })
        .collect();
    let events = batch.iter().map(|a| ev("asset.created", a.id)).collect();
    s.commit(ChangeSet {
        writes: batch
            .into_iter()
            .map(|a| Write::InsertAsset(Box::new(a)))
            .collect(),
        events,
    })
    .await
    .expect("bulk");
    let mut seen = 0;
    let mut cursor = None;
    let mut last = String::new();
    loop {
        let p = s
            .list_assets(&AssetQuery {
                limit: 500,
                q: Some("widget".into()),
                cursor,
                ..Default::default()
            })
            .await
            .expect("page");
        for a in &p.items {
            assert!(a.asset_number > last, "{} after {last}", a.asset_number);
            last = a.asset_number.clone();
        }
        seen += p.items.len();
        match p.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, 2100);
    assert_eq!(
        list(
            s,
            AssetQuery {
                q: Some("widget 2099".into()),
                ..Default::default()
            }
        )
        .await,
        ["AST-002099"]
    );
}

/// A bulk load into an empty register (which a backend may index after loading) leaves
/// every lookup working, whether it commits or rolls back.
pub async fn bulk_load_into_empty_register(s: &dyn Store) {
    let owner = setup(s).await;
    let load = |number: &str, v: Value| {
        let a = asset(owner.id, number, v);
        ChangeSet {
            events: vec![NewEvent::new(
                &Actor::System,
                "asset.created",
                "asset",
                a.id,
                json!({"name": {"after": a.name}}),
                None,
                custodian_domain::now(),
            )],
            writes: vec![Write::InsertAsset(Box::new(a))],
        }
    };

    let mut tx = s.begin_bulk().await.expect("begin bulk");
    tx.apply(load("AST-000001", json!({"name": "Abandoned"})))
        .await
        .expect("apply");
    tx.rollback().await.expect("rollback");
    assert_eq!(s.count_assets().await.expect("count"), 0);

    let mut tx = s.begin_bulk().await.expect("begin bulk");
    tx.apply(load(
        "AST-000001",
        json!({"name": "Zeppelin server", "serial_number": "ZS-1", "tags": ["lab"]}),
    ))
    .await
    .expect("apply");
    tx.apply(load(
        "AST-000002",
        json!({"kind": "data", "name": "Payroll records"}),
    ))
    .await
    .expect("apply");
    let found = tx
        .find_assets(MatchKey::SerialNumber, &["ZS-1".into()])
        .await
        .expect("find while loading");
    assert_eq!(numbers(&found), ["AST-000001"]);
    tx.commit().await.expect("commit");

    let loaded = add_asset(s, owner.id, "AST-000003", json!({"name": "Zeppelin spare"})).await;
    let q = |q: AssetQuery| list(s, q);
    assert_eq!(
        q(AssetQuery {
            q: Some("zeppelin".into()),
            ..Default::default()
        })
        .await,
        ["AST-000001", "AST-000003"]
    );
    assert_eq!(
        q(AssetQuery {
            kind: Some(AssetKind::Data),
            ..Default::default()
        })
        .await,
        ["AST-000002"]
    );
    assert_eq!(
        q(AssetQuery {
            tag: Some("lab".into()),
            owner_id: Some(owner.id),
            ..Default::default()
        })
        .await,
        ["AST-000001"]
    );
    let first = &s
        .find_assets(MatchKey::AssetNumber, &["AST-000001".into()])
        .await
        .expect("find")[0];
    let h = s
        .history("asset", &first.id.to_string(), 10, None)
        .await
        .expect("history");
    assert_eq!(h.items.len(), 1);
    assert_eq!(h.items[0].action, "asset.created");
    assert_eq!(s.count_assets().await.expect("count"), 3);
    assert_ne!(loaded.id, first.id);
}

/// Reads a whole list in `sort` order, `limit` rows a page, as a client would.
async fn read_sorted(
    s: &dyn Store,
    sort: AssetSort,
    limit: u32,
    kind: Option<AssetKind>,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor = None;
    let mut after_key = None;
    loop {
        let p = s
            .list_assets(&AssetQuery {
                limit,
                cursor,
                after_key: after_key.clone(),
                sort,
                kind,
                ..Default::default()
            })
            .await
            .expect("page");
        out.extend(numbers(&p.items));
        match p.next_cursor {
            Some(c) => {
                cursor = Some(c);
                after_key = p.items.last().and_then(|a| sort.key_of(a));
            }
            None => return out,
        }
    }
}

/// Every order pages through the whole list exactly once, ties broken by position,
/// filters applied.
pub async fn sorted_lists_page_by_keyset(s: &dyn Store) {
    let owner = setup(s).await;
    // Names with ties, reviews with ties and one without a date.
    let specs = [
        ("AST-000005", "Bravo", Some("2027-03-01")),
        ("AST-000002", "alpha", Some("2027-01-01")),
        ("AST-000009", "Bravo", Some("2027-01-01")),
        ("AST-000001", "Charlie", None),
        ("AST-000007", "Bravo", Some("2027-02-01")),
        ("AST-000003", "Delta", Some("2027-01-01")),
    ];
    for (n, name, review) in specs {
        let mut v = json!({"name": name});
        if let Some(r) = review {
            v["next_review_at"] = json!(r);
        }
        add_asset(s, owner.id, n, v).await;
    }
    let all = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    for limit in [1, 2, 4, 50] {
        assert_eq!(
            read_sorted(s, AssetSort::Registered, limit, None).await,
            all(&[
                "AST-000005",
                "AST-000002",
                "AST-000009",
                "AST-000001",
                "AST-000007",
                "AST-000003"
            ])
        );
        assert_eq!(
            read_sorted(s, AssetSort::Newest, limit, None).await,
            all(&[
                "AST-000003",
                "AST-000007",
                "AST-000001",
                "AST-000009",
                "AST-000002",
                "AST-000005"
            ])
        );
        assert_eq!(
            read_sorted(s, AssetSort::Number, limit, None).await,
            all(&[
                "AST-000001",
                "AST-000002",
                "AST-000003",
                "AST-000005",
                "AST-000007",
                "AST-000009"
            ])
        );
        // Byte order (upper case first), ties in order of registration.
        assert_eq!(
            read_sorted(s, AssetSort::Name, limit, None).await,
            all(&[
                "AST-000005",
                "AST-000009",
                "AST-000007",
                "AST-000001",
                "AST-000003",
                "AST-000002"
            ])
        );
        assert_eq!(
            read_sorted(s, AssetSort::NextReview, limit, None).await,
            all(&[
                "AST-000002",
                "AST-000009",
                "AST-000003",
                "AST-000007",
                "AST-000005"
            ])
        );
    }
    // A filter narrows a sorted list too.
    add_asset(
        s,
        owner.id,
        "AST-000010",
        json!({"name": "Bravo", "kind": "virtual"}),
    )
    .await;
    assert_eq!(
        read_sorted(s, AssetSort::Name, 1, Some(AssetKind::Virtual)).await,
        all(&["AST-000010"])
    );
}

fn policy_draft(number: &str, material: bool) -> PolicyVersion {
    PolicyVersion::from_input(
        json!({"document": "acceptable_use", "number": number, "body": "Be careful.",
            "effective_date": "2026-01-01", "material": material})
        .as_object()
        .expect("object"),
        custodian_domain::now(),
    )
    .expect("valid draft")
}

async fn expect_duplicate(s: &dyn Store, w: Write, field: &str) {
    match s.commit(ChangeSet::one(w, ev("x", 1))).await {
        Err(StoreError::Duplicate { field: f, .. }) => assert_eq!(f, field),
        other => panic!("expected a duplicate {field}, got {other:?}"),
    }
}

/// Policy versions, acknowledgements, custody and exceptions keep their rules in the
/// database too: one version in force, one acknowledgement per person and version, one
/// holder of a device at a time.
pub async fn policy_workflow_records(s: &dyn Store) {
    let ada = setup(s).await;
    let bob = add_person(s, "Bob").await;
    let now = custodian_domain::now();

    let v1 = policy_draft("1.0", true);
    commit(s, Write::InsertPolicy(Box::new(v1.clone()))).await;
    expect_duplicate(
        s,
        Write::InsertPolicy(Box::new(policy_draft("1.0", false))),
        "number",
    )
    .await;
    let v1a = v1.approve(ada.id, None, now).expect("approve");
    commit(
        s,
        Write::UpdatePolicy {
            policy: Box::new(v1a.clone()),
            expected_version: v1.version,
        },
    )
    .await;
    assert_eq!(s.policy(v1.id).await.expect("get"), Some(v1a.clone()));
    let v2 = policy_draft("2.0", true);
    commit(s, Write::InsertPolicy(Box::new(v2.clone()))).await;
    let v2a = v2.approve(ada.id, None, now).expect("approve");
    expect_duplicate(
        s,
        Write::UpdatePolicy {
            policy: Box::new(v2a.clone()),
            expected_version: v2.version,
        },
        "status",
    )
    .await;
    assert_eq!(
        s.policies(Some(PolicyDocument::AcceptableUse))
            .await
            .expect("list")
            .iter()
            .map(|p| p.number.as_str())
            .collect::<Vec<_>>(),
        vec!["1.0", "2.0"]
    );
    assert!(s
        .policies(Some(PolicyDocument::AssetManagement))
        .await
        .expect("list")
        .is_empty());

    let ack = Acknowledgement {
        id: custodian_domain::new_id(),
        policy_id: v1.id,
        person_id: ada.id,
        acknowledged_at: now,
        source: AckSource::Person,
        note: None,
        created_at: now,
    };
    commit(s, Write::InsertAcknowledgement(ack.clone())).await;
    expect_duplicate(
        s,
        Write::InsertAcknowledgement(Acknowledgement {
            id: custodian_domain::new_id(),
            ..ack.clone()
        }),
        "policy_id",
    )
    .await;
    assert_eq!(
        s.acknowledgement_counts(&[v1.id]).await.expect("counts"),
        (1, 1)
    );
    assert_eq!(s.acknowledgement_counts(&[]).await.expect("counts"), (0, 2));
    let missing = s
        .persons_without_acknowledgement(&[v1.id], 10)
        .await
        .expect("missing");
    assert_eq!(
        missing.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![bob.id]
    );
    let acks = s
        .list_acknowledgements(&AcknowledgementQuery {
            limit: 10,
            person_id: Some(ada.id),
            ..Default::default()
        })
        .await
        .expect("acks");
    assert_eq!(acks.items, vec![ack]);

    let laptop = add_asset(s, ada.id, "AST-000001", json!({})).await;
    let issue = |person: Uuid| Assignment {
        id: custodian_domain::new_id(),
        asset_id: laptop.id,
        kind: AssignmentKind::Custody,
        person_id: Some(person),
        host_id: None,
        issued_at: now,
        issued_by: Some(ada.id),
        expected_return_at: NaiveDate::from_ymd_opt(2030, 1, 1),
        off_premises: true,
        location_id: None,
        approved_by: None,
        exception_id: None,
        policy_id: Some(v1.id),
        warnings: vec!["a warning".into()],
        notes: None,
        returned_at: None,
        received_by: None,
        condition: None,
        outcome: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let first = issue(bob.id);
    commit(s, Write::InsertAssignment(Box::new(first.clone()))).await;
    assert_eq!(
        s.assignment(first.id).await.expect("get"),
        Some(first.clone())
    );
    expect_duplicate(
        s,
        Write::InsertAssignment(Box::new(issue(ada.id))),
        "asset_id",
    )
    .await;
    assert_eq!(s.count_open_assignments(laptop.id).await.expect("count"), 1);
    let off = s
        .list_assignments(&AssignmentQuery {
            limit: 10,
            open: Some(true),
            off_premises: Some(true),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(off.items, vec![first.clone()]);
    let mut back = first.clone();
    back.returned_at = Some(now);
    back.outcome = Some(AssignmentOutcome::Returned);
    back.condition = Some("scratched lid".into());
    back.version += 1;
    commit(
        s,
        Write::UpdateAssignment {
            assignment: Box::new(back.clone()),
            expected_version: first.version,
        },
    )
    .await;
    let stale = s
        .commit(ChangeSet::one(
            Write::UpdateAssignment {
                assignment: Box::new(back.clone()),
                expected_version: first.version,
            },
            ev("x", 1),
        ))
        .await;
    assert!(matches!(stale, Err(StoreError::Stale { .. })), "{stale:?}");
    let second = issue(ada.id);
    commit(s, Write::InsertAssignment(Box::new(second.clone()))).await;
    let newest = s
        .list_assignments(&AssignmentQuery {
            limit: 1,
            asset_id: Some(laptop.id),
            newest_first: true,
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(newest.items, vec![second]);
    let older = s
        .list_assignments(&AssignmentQuery {
            limit: 1,
            asset_id: Some(laptop.id),
            newest_first: true,
            cursor: newest.next_cursor,
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(older.items, vec![back]);
    assert!(older.next_cursor.is_none());

    let other = add_asset(s, ada.id, "AST-000002", json!({})).await;
    let x = PolicyException::from_input(
        json!({"rule": "off_premises", "asset_ids": [other.id, laptop.id],
            "justification": "Field work", "compensating_controls": "Tracked",
            "expires_at": (now.date_naive() + TimeDelta::days(30)).to_string()})
        .as_object()
        .expect("object"),
        Some(bob.id),
        now,
    )
    .expect("valid exception");
    commit(s, Write::InsertException(Box::new(x.clone()))).await;
    assert_eq!(s.exception(x.id).await.expect("get"), Some(x.clone()));
    let approved = x
        .decide(ExceptionStatus::Approved, ada.id, None, now)
        .expect("approve");
    commit(
        s,
        Write::UpdateException {
            exception: Box::new(approved.clone()),
            expected_version: x.version,
        },
    )
    .await;
    let covering = s
        .list_exceptions(&ExceptionQuery {
            limit: 10,
            asset_id: Some(laptop.id),
            rule: Some(ExceptionRule::OffPremises),
            status: Some(ExceptionStatus::Approved),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(covering.items, vec![approved]);
    let none = s
        .list_exceptions(&ExceptionQuery {
            limit: 10,
            rule: Some(ExceptionRule::AcceptableUse),
            ..Default::default()
        })
        .await
        .expect("list");
    assert!(none.items.is_empty());
    for (who, expected) in [(bob.id, 1), (ada.id, 0)] {
        let asked = s
            .list_exceptions(&ExceptionQuery {
                limit: 10,
                requester_id: Some(who),
                ..Default::default()
            })
            .await
            .expect("list");
        assert_eq!(asked.items.len(), expected);
    }
}

/// Offboarding cases keep their items in order, take new ones on update, refuse stale
/// updates; attestation answers change one owner's row without touching the campaign.
pub async fn offboarding_and_attestation_records(s: &dyn Store) {
    use custodian_domain::attestation::{
        Attestation, AttestationOwner, AttestationStatus, OwnerResponse,
    };
    use custodian_domain::offboarding::{
        CaseItem, CaseKind, CaseStatus, ItemKind, ItemStatus, Offboarding,
    };
    let ada = setup(s).await;
    let bob = add_person(s, "Bob Leaver").await;
    let laptop = add_asset(s, bob.id, "AST-000001", json!({})).await;
    add_asset(s, bob.id, "AST-000002", json!({})).await;
    let mut gone = asset(ada.id, "AST-000003", json!({}));
    gone.status = custodian_domain::lifecycle::Status::Disposed;
    commit(s, Write::InsertAsset(Box::new(gone))).await;
    let now = custodian_domain::now();
    let mut first = CaseItem::open(ItemKind::HandOverAsset, "Hand over AST-000001".into());
    first.asset_id = Some(laptop.id);
    let case = Offboarding {
        id: custodian_domain::new_id(),
        person_id: bob.id,
        kind: CaseKind::Leaver,
        reason: "entered notice".into(),
        from_party_id: None,
        end_date: Some(now.date_naive()),
        successor_id: Some(ada.id),
        status: CaseStatus::Open,
        opened_by: None,
        closed_at: None,
        closed_by: None,
        notes: None,
        items: vec![
            first,
            CaseItem::open(ItemKind::RevokeAccess, "Revoke access".into()),
        ],
        version: 1,
        created_at: now,
        updated_at: now,
    };
    commit(s, Write::InsertOffboarding(Box::new(case.clone()))).await;
    assert_eq!(
        s.offboarding(case.id).await.expect("get"),
        Some(case.clone())
    );

    let mut next = case.clone();
    next.items[1].status = ItemStatus::Settled;
    next.items[1].settled_at = Some(now);
    next.items[1].settled_by = Some(ada.id);
    next.items[1].evidence = Some("SSO off".into());
    next.items.push(CaseItem::open(
        ItemKind::ErasePersonalDevice,
        "Erase".into(),
    ));
    next.version = 2;
    // Only the items named are written: the settled one and the new one.
    let changed = vec![next.items[1].id, next.items[2].id];
    commit(
        s,
        Write::UpdateOffboarding {
            case: Box::new(next.clone()),
            items: changed.clone(),
            expected_version: 1,
        },
    )
    .await;
    assert_eq!(
        s.offboarding(case.id).await.expect("get"),
        Some(next.clone())
    );
    let stale = s
        .commit(ChangeSet::one(
            Write::UpdateOffboarding {
                case: Box::new(next.clone()),
                items: changed,
                expected_version: 1,
            },
            ev("test.write", "x"),
        ))
        .await;
    assert!(matches!(stale, Err(StoreError::Stale { .. })), "{stale:?}");
    let page = s
        .list_offboardings(&crate::OffboardingQuery {
            limit: 10,
            person_id: Some(bob.id),
            status: Some(CaseStatus::Open),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(page.items, vec![next]);
    let none = s
        .list_offboardings(&crate::OffboardingQuery {
            limit: 10,
            kind: Some(CaseKind::Mover),
            ..Default::default()
        })
        .await
        .expect("list");
    assert!(none.items.is_empty());

    // Owners of assets not disposed of, with how many.
    let owners = s.asset_owner_counts().await.expect("owners");
    assert_eq!(owners, vec![(bob.id, 2)]);
    let owner = |id, n| AttestationOwner {
        owner_id: id,
        asset_count: n,
        status: OwnerResponse::Pending,
        responded_at: None,
        responded_by: None,
        note: None,
        disputed_asset_ids: vec![],
    };
    let a = Attestation {
        id: custodian_domain::new_id(),
        title: "Q4".into(),
        due_date: now.date_naive(),
        status: AttestationStatus::Open,
        opened_by: Some(ada.id),
        closed_at: None,
        closed_by: None,
        owners: vec![owner(bob.id, 2), owner(ada.id, 0)],
        version: 1,
        created_at: now,
        updated_at: now,
    };
    commit(s, Write::InsertAttestation(Box::new(a.clone()))).await;
    let mut answered = a.owners[0].clone();
    answered.status = OwnerResponse::Corrected;
    answered.responded_at = Some(now);
    answered.responded_by = Some(bob.id);
    answered.note = Some("sold one".into());
    answered.disputed_asset_ids = vec![laptop.id];
    commit(
        s,
        Write::UpdateAttestation {
            id: a.id,
            attestation: None,
            owners: vec![answered.clone()],
            expected_version: 0,
        },
    )
    .await;
    let got = s.attestation(a.id).await.expect("get").expect("found");
    assert_eq!(got.version, 1);
    assert_eq!(got.owners, vec![answered, a.owners[1].clone()]);
    let listed = s
        .list_attestations(Some(AttestationStatus::Open), 10, None)
        .await
        .expect("list");
    assert_eq!(listed.items, vec![got]);
}

/// Stocktakes: the location tree below a place, numbers matched whatever their case, one
/// scan per asset, what is missing while open and as fixed at closing.
pub async fn stocktake_records(s: &dyn Store) {
    let ada = setup(s).await;
    let now = custodian_domain::now();
    let place = |name: &str, parent: Option<Uuid>| {
        Location::from_input(
            json!({"name": name, "parent_id": parent})
                .as_object()
                .expect("object"),
            &[],
            now,
        )
        .expect("valid")
    };
    let site = place("Site", None);
    let floor = place("Floor", Some(site.id));
    let room = place("Room", Some(floor.id));
    let other = place("Other site", None);
    for l in [&site, &floor, &room, &other] {
        commit(s, Write::InsertLocation(l.clone())).await;
    }
    let mut tree = s.location_subtree(site.id).await.expect("subtree");
    tree.sort();
    let mut want = vec![site.id, floor.id, room.id];
    want.sort();
    assert_eq!(tree, want);
    assert_eq!(
        s.location_subtree(room.id).await.expect("subtree"),
        vec![room.id]
    );

    let at = |l: Uuid| json!({ "location_id": l });
    let a1 = add_asset(s, ada.id, "Lab-001", at(site.id)).await;
    let a2 = add_asset(s, ada.id, "AST-000002", at(room.id)).await;
    let a3 = add_asset(s, ada.id, "AST-000003", at(room.id)).await;
    let gone = add_asset(
        s,
        ada.id,
        "AST-000004",
        json!({"location_id": site.id, "status": "retired"}),
    )
    .await;
    let mut lost = gone.clone();
    lost.status = Status::Lost;
    lost.version += 1;
    commit(
        s,
        Write::UpdateAsset {
            asset: Box::new(lost),
            expected_version: gone.version,
        },
    )
    .await;
    add_asset(s, ada.id, "AST-000005", at(other.id)).await;
    let found = s.assets_by_number_nocase("lab-001").await.expect("nocase");
    assert_eq!(numbers(&found), ["Lab-001"]);
    assert!(s
        .assets_by_number_nocase("LAB-002")
        .await
        .expect("nocase")
        .is_empty());

    let t = Stocktake::from_input(
        json!({"location_id": site.id}).as_object().expect("object"),
        Some(ada.id),
        now,
    )
    .expect("valid");
    commit(s, Write::InsertStocktake(Box::new(t.clone()))).await;
    assert_eq!(s.stocktake(t.id).await.expect("get"), Some(t.clone()));
    let flat = Stocktake::from_input(
        json!({"location_id": site.id, "include_sublocations": false})
            .as_object()
            .expect("object"),
        None,
        now,
    )
    .expect("valid");
    commit(s, Write::InsertStocktake(Box::new(flat.clone()))).await;
    let q = StocktakeQuery {
        limit: 10,
        location_id: Some(site.id),
        status: Some(StocktakeStatus::Open),
        ..Default::default()
    };
    let listed = s.list_stocktakes(&q).await.expect("list");
    assert_eq!(listed.items, vec![flat.clone(), t.clone()], "newest first");

    // Expected: the site and every place inside it, lost assets left out.
    let counts = s.stocktake_counts(&t).await.expect("counts");
    assert_eq!((counts.expected, counts.missing), (3, 3));
    let flat_counts = s.stocktake_counts(&flat).await.expect("counts");
    assert_eq!(flat_counts.missing, 1, "only the site itself");

    let scan = |asset: Option<&Asset>, result: ScanResult| StocktakeScan {
        id: custodian_domain::new_id(),
        stocktake_id: t.id,
        asset_id: asset.map(|a| a.id),
        entered: asset.map_or("??".into(), |a| a.asset_number.clone()),
        scanned_at: now,
        scanned_by: Some(ada.id),
        result,
        registered_location_id: asset.and_then(|a| a.location_id),
    };
    let first = scan(Some(&a1), ScanResult::Found);
    commit(s, Write::InsertStocktakeScan(Box::new(first.clone()))).await;
    expect_duplicate(
        s,
        Write::InsertStocktakeScan(Box::new(scan(Some(&a1), ScanResult::Found))),
        "entry",
    )
    .await;
    commit(
        s,
        Write::InsertStocktakeScan(Box::new(scan(None, ScanResult::Unknown))),
    )
    .await;
    commit(
        s,
        Write::InsertStocktakeScan(Box::new(scan(None, ScanResult::Unknown))),
    )
    .await;
    let mine = s
        .list_stocktake_scans(&ScanQuery {
            limit: 10,
            stocktake_id: t.id,
            asset_id: Some(a1.id),
            ..Default::default()
        })
        .await
        .expect("scans");
    assert_eq!(mine.items, vec![first]);
    let counts = s.stocktake_counts(&t).await.expect("counts");
    assert_eq!(
        (
            counts.expected,
            counts.found,
            counts.missing,
            counts.unknown
        ),
        (3, 1, 2, 2)
    );
    let p = s.stocktake_missing(&t, 1, None).await.expect("missing");
    assert_eq!(numbers(&p.items), [a2.asset_number.as_str()]);
    let p = s
        .stocktake_missing(&t, 1, p.next_cursor)
        .await
        .expect("missing");
    assert_eq!(numbers(&p.items), ["AST-000003"]);
    assert!(p.next_cursor.is_none());

    // Closing fixes what is missing; a stale close changes nothing.
    let closed = t.close(Some(ada.id), None, now).expect("close");
    let stale = s
        .commit(ChangeSet::one(
            Write::CloseStocktake {
                stocktake: Box::new(closed.clone()),
                expected_version: 7,
            },
            ev("x", 1),
        ))
        .await
        .unwrap_err();
    assert!(matches!(stale, StoreError::Stale { .. }), "{stale:?}");
    commit(
        s,
        Write::CloseStocktake {
            stocktake: Box::new(closed.clone()),
            expected_version: t.version,
        },
    )
    .await;
    add_asset(s, ada.id, "AST-000006", at(floor.id)).await;
    let mut moved = a3.clone();
    moved.location_id = Some(other.id);
    moved.version += 1;
    commit(
        s,
        Write::UpdateAsset {
            asset: Box::new(moved),
            expected_version: a3.version,
        },
    )
    .await;
    let after = s.stocktake_counts(&closed).await.expect("counts");
    assert_eq!((after.found, after.missing), (1, 2));
    let p = s
        .stocktake_missing(&closed, 10, None)
        .await
        .expect("missing");
    assert_eq!(numbers(&p.items), ["AST-000002", "AST-000003"]);
    assert_eq!(
        s.stocktake(t.id).await.expect("get").map(|x| x.status),
        Some(StocktakeStatus::Closed)
    );
}
