//! Locations, the classification scheme and custom field definitions.

use super::*;

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
    commit(
        s,
        Write::Reference(ReferenceWrite::InsertLocation(site.clone())),
    )
    .await;
    commit(
        s,
        Write::Reference(ReferenceWrite::InsertLocation(room.clone())),
    )
    .await;
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
        Write::Reference(ReferenceWrite::UpdateLocation {
            location: moved.clone(),
            expected_version: 1,
        }),
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
        .commit(ChangeSet::one(
            Write::Reference(ReferenceWrite::InsertLocation(orphan)),
            ev("x", 1),
        ))
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
        Write::Reference(ReferenceWrite::UpdateClassification {
            level: renamed.clone(),
            expected_version: 1,
        }),
    )
    .await;
    assert_eq!(
        s.classifications().await.expect("levels")[2].name,
        "Company confidential"
    );
    let err = s
        .commit(ChangeSet::one(
            Write::Reference(ReferenceWrite::UpdateClassification {
                level: renamed,
                expected_version: 1,
            }),
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
            Write::Reference(ReferenceWrite::DeleteClassification("public".into())),
            ev("x", 1),
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Reference(_)), "{err:?}");
    commit(
        s,
        Write::Reference(ReferenceWrite::DeleteClassification("restricted".into())),
    )
    .await;
    assert_eq!(s.classifications().await.expect("levels").len(), 3);
    let def = CustomFieldDef::from_input(json!({"entity_type": "asset", "key": "cost_centre", "label": "Cost centre", "field_type": "choice", "choices": ["A", "B"]}).as_object().expect("object"), custodian_domain::now()).expect("valid");
    commit(
        s,
        Write::Reference(ReferenceWrite::InsertCustomField(def.clone())),
    )
    .await;
    assert_eq!(s.custom_fields().await.expect("defs"), vec![def.clone()]);
    let again = CustomFieldDef {
        id: custodian_domain::new_id(),
        ..def.clone()
    };
    let err = s
        .commit(ChangeSet::one(
            Write::Reference(ReferenceWrite::InsertCustomField(again)),
            ev("x", 1),
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Duplicate { field: "key", .. }),
        "{err:?}"
    );
    commit(
        s,
        Write::Reference(ReferenceWrite::DeleteCustomField(def.id)),
    )
    .await;
    assert!(s.custom_fields().await.expect("defs").is_empty());
}
