//! Assets: round trips, numbers, filters, search, keyset paging in every order, links, disposal and incident records, import matching, bulk loads.

use super::*;

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
        Write::Asset(AssetWrite::UpdateAsset {
            asset: Box::new(b.clone()),
            expected_version: 1,
        }),
    )
    .await;
    assert_eq!(s.asset(a.id).await.expect("get"), Some(b.clone()));
    let mut c = b.clone();
    c.name = "Lost update".into();
    c.version = 3;
    let err = s
        .commit(ChangeSet::one(
            Write::Asset(AssetWrite::UpdateAsset {
                asset: Box::new(c.clone()),
                expected_version: 1,
            }),
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
            Write::Asset(AssetWrite::UpdateAsset {
                asset: Box::new(c),
                expected_version: 1,
            }),
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
            Write::Asset(AssetWrite::InsertAsset(Box::new(dup))),
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
            .map(|a| Write::Asset(AssetWrite::InsertAsset(Box::new(a))))
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
    commit(
        s,
        Write::Reference(ReferenceWrite::InsertLocation(site.clone())),
    )
    .await;
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
    commit(s, Write::Asset(AssetWrite::InsertRelation(r.clone()))).await;
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
        .commit(ChangeSet::one(
            Write::Asset(AssetWrite::InsertRelation(dup)),
            ev("x", 1),
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate { .. }), "{err:?}");
    commit(s, Write::Asset(AssetWrite::DeleteRelation(r.id))).await;
    assert!(s.relations_of(&[data.id]).await.expect("rels").is_empty());
    let err = s
        .commit(ChangeSet::one(
            Write::Asset(AssetWrite::DeleteRelation(r.id)),
            ev("x", 1),
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
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
            Write::Asset(AssetWrite::InsertAsset(Box::new(dup))),
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
    commit(s, Write::Asset(AssetWrite::InsertDisposal(d.clone()))).await;
    assert_eq!(s.disposal(a.id).await.expect("get"), Some(d.clone()));
    let err = s
        .commit(ChangeSet::one(
            Write::Asset(AssetWrite::InsertDisposal(d)),
            ev("x", 1),
        ))
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
    commit(s, Write::Asset(AssetWrite::InsertIncident(i.clone()))).await;
    assert_eq!(s.incidents(a.id).await.expect("get"), vec![i.clone()]);
    // A holder's report awaits its reference; adding it touches only reports without one.
    let awaiting = IncidentReport {
        incident_ref: None,
        status: Status::Stolen,
        ..i.clone()
    };
    commit(
        s,
        Write::Asset(AssetWrite::InsertIncident(awaiting.clone())),
    )
    .await;
    commit(
        s,
        Write::Asset(AssetWrite::SetIncidentRef {
            asset_id: a.id,
            incident_ref: "INC-2".into(),
        }),
    )
    .await;
    let both = s.incidents(a.id).await.expect("get");
    assert_eq!(both[0], i);
    assert_eq!(both[1].incident_ref.as_deref(), Some("INC-2"));
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
            .map(|a| Write::Asset(AssetWrite::InsertAsset(Box::new(a))))
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
            writes: vec![Write::Asset(AssetWrite::InsertAsset(Box::new(a)))],
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
