//! Offboarding cases and attestation campaigns.

use super::*;

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
    commit(s, Write::Asset(AssetWrite::InsertAsset(Box::new(gone)))).await;
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
    commit(
        s,
        Write::Offboarding(OffboardingWrite::InsertOffboarding(Box::new(case.clone()))),
    )
    .await;
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
        Write::Offboarding(OffboardingWrite::UpdateOffboarding {
            case: Box::new(next.clone()),
            items: changed.clone(),
            expected_version: 1,
        }),
    )
    .await;
    assert_eq!(
        s.offboarding(case.id).await.expect("get"),
        Some(next.clone())
    );
    let stale = s
        .commit(ChangeSet::one(
            Write::Offboarding(OffboardingWrite::UpdateOffboarding {
                case: Box::new(next.clone()),
                items: changed,
                expected_version: 1,
            }),
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
    commit(
        s,
        Write::Attestation(AttestationWrite::InsertAttestation(Box::new(a.clone()))),
    )
    .await;
    let mut answered = a.owners[0].clone();
    answered.status = OwnerResponse::Corrected;
    answered.responded_at = Some(now);
    answered.responded_by = Some(bob.id);
    answered.note = Some("sold one".into());
    answered.disputed_asset_ids = vec![laptop.id];
    commit(
        s,
        Write::Attestation(AttestationWrite::UpdateAttestation {
            id: a.id,
            attestation: None,
            owners: vec![answered.clone()],
            expected_version: 0,
        }),
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
