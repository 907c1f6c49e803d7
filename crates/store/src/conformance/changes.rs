//! Change sets: all or nothing, and concurrent commits failing alone.

use super::*;

/// A change set that fails, or a transaction rolled back, leaves no row and no event.
pub async fn failed_changes_leave_nothing(s: &dyn Store) {
    let owner = setup(s).await;
    let head = s.audit_head().await.expect("head");
    let a = asset(owner.id, "AST-000001", json!({}));
    let b = asset(owner.id, "AST-000001", json!({}));
    let cs = ChangeSet {
        writes: vec![
            Write::Asset(AssetWrite::InsertAsset(Box::new(a.clone()))),
            Write::Asset(AssetWrite::InsertAsset(Box::new(b))),
        ],
        events: vec![ev("a", 1), ev("b", 2)],
    };
    assert!(s.commit(cs).await.is_err());
    assert_eq!(s.asset(a.id).await.expect("get"), None);
    assert_eq!(s.audit_head().await.expect("head"), head);
    let mut tx = s.begin().await.expect("begin");
    tx.apply(ChangeSet::one(
        Write::Asset(AssetWrite::InsertAsset(Box::new(a.clone()))),
        ev("a", 1),
    ))
    .await
    .expect("apply");
    tx.rollback().await.expect("rollback");
    assert_eq!(s.asset(a.id).await.expect("get"), None);
    assert_eq!(s.audit_head().await.expect("head"), head);
    let err = s
        .commit(ChangeSet {
            writes: vec![Write::Asset(AssetWrite::InsertAsset(Box::new(a.clone())))],
            events: vec![],
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Other(_)),
        "a write without an event is refused: {err:?}"
    );
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
                Write::Asset(AssetWrite::InsertAsset(Box::new(a.clone()))),
                ev("asset.created", a.id),
            )
        })
        .collect();
    let dup = asset(owner.id, "AST-000000", json!({}));
    sets.insert(
        15,
        ChangeSet::one(
            Write::Asset(AssetWrite::InsertAsset(Box::new(dup))),
            ev("asset.created", "dup"),
        ),
    );
    // A change without its event is refused even when it arrives among others.
    let silent = asset(owner.id, "AST-999999", json!({}));
    sets.insert(
        20,
        ChangeSet {
            writes: vec![Write::Asset(AssetWrite::InsertAsset(Box::new(
                silent.clone(),
            )))],
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
