//! Persons, teams, roles and delegations.

use super::*;

/// Persons, teams with members and roles with holders share one id space.
pub async fn parties_teams_and_roles(s: &dyn Store) {
    let ada = add_person(s, "Ada Lovelace").await;
    let bob = add_person(s, "Bob Byte").await;
    let team = party(json!({"kind": "team", "name": "IT", "member_ids": [ada.id, bob.id]}));
    let role = party(json!({"kind": "role", "name": "DPO", "holder_id": ada.id}));
    commit(
        s,
        Write::Party(PartyWrite::InsertParty(Box::new(team.clone()))),
    )
    .await;
    commit(
        s,
        Write::Party(PartyWrite::InsertParty(Box::new(role.clone()))),
    )
    .await;
    assert_eq!(s.party(team.id).await.expect("get"), Some(team.clone()));
    assert_eq!(s.party(role.id).await.expect("get"), Some(role.clone()));
    let mut t2 = team.clone();
    t2.member_ids = vec![bob.id];
    t2.version = 2;
    commit(
        s,
        Write::Party(PartyWrite::UpdateParty {
            party: Box::new(t2.clone()),
            expected_version: 1,
        }),
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
        Write::Party(PartyWrite::UpdateParty {
            party: Box::new(left),
            expected_version: 1,
        }),
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
            Write::Party(PartyWrite::InsertParty(Box::new(dup))),
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
    commit(s, Write::Party(PartyWrite::InsertDelegation(d.clone()))).await;
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
        Write::Party(PartyWrite::EndDelegation {
            id: d.id,
            ended_at: custodian_domain::now(),
            reason: "left".into(),
        }),
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
            Write::Party(PartyWrite::EndDelegation {
                id: d.id,
                ended_at: custodian_domain::now(),
                reason: "again".into(),
            }),
            ev("x", 1),
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}
