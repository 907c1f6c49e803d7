//! Stocktakes and their scans.

use super::*;

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
        commit(
            s,
            Write::Reference(ReferenceWrite::InsertLocation(l.clone())),
        )
        .await;
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
        Write::Asset(AssetWrite::UpdateAsset {
            asset: Box::new(lost),
            expected_version: gone.version,
        }),
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
    commit(
        s,
        Write::Stocktake(StocktakeWrite::InsertStocktake(Box::new(t.clone()))),
    )
    .await;
    assert_eq!(s.stocktake(t.id).await.expect("get"), Some(t.clone()));
    let flat = Stocktake::from_input(
        json!({"location_id": site.id, "include_sublocations": false})
            .as_object()
            .expect("object"),
        None,
        now,
    )
    .expect("valid");
    commit(
        s,
        Write::Stocktake(StocktakeWrite::InsertStocktake(Box::new(flat.clone()))),
    )
    .await;
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
    commit(
        s,
        Write::Stocktake(StocktakeWrite::InsertStocktakeScan(Box::new(first.clone()))),
    )
    .await;
    expect_duplicate(
        s,
        Write::Stocktake(StocktakeWrite::InsertStocktakeScan(Box::new(scan(
            Some(&a1),
            ScanResult::Found,
        )))),
        "entry",
    )
    .await;
    commit(
        s,
        Write::Stocktake(StocktakeWrite::InsertStocktakeScan(Box::new(scan(
            None,
            ScanResult::Unknown,
        )))),
    )
    .await;
    commit(
        s,
        Write::Stocktake(StocktakeWrite::InsertStocktakeScan(Box::new(scan(
            None,
            ScanResult::Unknown,
        )))),
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
            Write::Stocktake(StocktakeWrite::CloseStocktake {
                stocktake: Box::new(closed.clone()),
                expected_version: 7,
            }),
            ev("x", 1),
        ))
        .await
        .unwrap_err();
    assert!(matches!(stale, StoreError::Stale { .. }), "{stale:?}");
    commit(
        s,
        Write::Stocktake(StocktakeWrite::CloseStocktake {
            stocktake: Box::new(closed.clone()),
            expected_version: t.version,
        }),
    )
    .await;
    add_asset(s, ada.id, "AST-000006", at(floor.id)).await;
    let mut moved = a3.clone();
    moved.location_id = Some(other.id);
    moved.version += 1;
    commit(
        s,
        Write::Asset(AssetWrite::UpdateAsset {
            asset: Box::new(moved),
            expected_version: a3.version,
        }),
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
