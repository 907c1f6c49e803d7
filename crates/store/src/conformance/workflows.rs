//! Policy versions, acknowledgements, custody and exceptions.

use super::*;

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

/// Policy versions, acknowledgements, custody and exceptions keep their rules in the
/// database too: one version in force, one acknowledgement per person and version, one
/// holder of a device at a time.
pub async fn policy_workflow_records(s: &dyn Store) {
    let ada = setup(s).await;
    let bob = add_person(s, "Bob").await;
    let now = custodian_domain::now();

    let v1 = policy_draft("1.0", true);
    commit(
        s,
        Write::Policy(PolicyWrite::InsertPolicy(Box::new(v1.clone()))),
    )
    .await;
    expect_duplicate(
        s,
        Write::Policy(PolicyWrite::InsertPolicy(Box::new(policy_draft(
            "1.0", false,
        )))),
        "number",
    )
    .await;
    let v1a = v1.approve(ada.id, None, now).expect("approve");
    commit(
        s,
        Write::Policy(PolicyWrite::UpdatePolicy {
            policy: Box::new(v1a.clone()),
            expected_version: v1.version,
        }),
    )
    .await;
    assert_eq!(s.policy(v1.id).await.expect("get"), Some(v1a.clone()));
    let v2 = policy_draft("2.0", true);
    commit(
        s,
        Write::Policy(PolicyWrite::InsertPolicy(Box::new(v2.clone()))),
    )
    .await;
    let v2a = v2.approve(ada.id, None, now).expect("approve");
    expect_duplicate(
        s,
        Write::Policy(PolicyWrite::UpdatePolicy {
            policy: Box::new(v2a.clone()),
            expected_version: v2.version,
        }),
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
    commit(
        s,
        Write::Policy(PolicyWrite::InsertAcknowledgement(ack.clone())),
    )
    .await;
    expect_duplicate(
        s,
        Write::Policy(PolicyWrite::InsertAcknowledgement(Acknowledgement {
            id: custodian_domain::new_id(),
            ..ack.clone()
        })),
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
            person_ids: Vec::new(),
            ..Default::default()
        })
        .await
        .expect("acks");
    assert_eq!(acks.items, vec![ack]);

    let laptop = add_asset(s, ada.id, "AST-000001", json!({})).await;
    let issue = |person: Uuid| Assignment {
        expected_return_at: NaiveDate::from_ymd_opt(2030, 1, 1),
        off_premises: true,
        policy_id: Some(v1.id),
        warnings: vec!["a warning".into()],
        ..custody(laptop.id, person, ada.id)
    };
    let first = issue(bob.id);
    commit(
        s,
        Write::Custody(CustodyWrite::InsertAssignment(Box::new(first.clone()))),
    )
    .await;
    assert_eq!(
        s.assignment(first.id).await.expect("get"),
        Some(first.clone())
    );
    expect_duplicate(
        s,
        Write::Custody(CustodyWrite::InsertAssignment(Box::new(issue(ada.id)))),
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
        Write::Custody(CustodyWrite::UpdateAssignment {
            assignment: Box::new(back.clone()),
            expected_version: first.version,
        }),
    )
    .await;
    let stale = s
        .commit(ChangeSet::one(
            Write::Custody(CustodyWrite::UpdateAssignment {
                assignment: Box::new(back.clone()),
                expected_version: first.version,
            }),
            ev("x", 1),
        ))
        .await;
    assert!(matches!(stale, Err(StoreError::Stale { .. })), "{stale:?}");
    let second = issue(ada.id);
    commit(
        s,
        Write::Custody(CustodyWrite::InsertAssignment(Box::new(second.clone()))),
    )
    .await;
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
    commit(
        s,
        Write::Exception(ExceptionWrite::InsertException(Box::new(x.clone()))),
    )
    .await;
    assert_eq!(s.exception(x.id).await.expect("get"), Some(x.clone()));
    let approved = x
        .decide(ExceptionStatus::Approved, ada.id, None, now)
        .expect("approve");
    commit(
        s,
        Write::Exception(ExceptionWrite::UpdateException {
            exception: Box::new(approved.clone()),
            expected_version: x.version,
        }),
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
