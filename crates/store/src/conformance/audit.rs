//! The audit chain and per-record history.

use super::*;
use crate::EventQuery;

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

/// Times never go back along the chain: an event prepared earlier than the last one
/// written is recorded at that one's time, so a time cuts the chain once, and the events
/// of an entity type can be read up to that cut.
pub async fn audit_chain_cut_by_time(s: &dyn Store) {
    let owner = setup(s).await;
    let a = add_asset(s, owner.id, "AST-000001", json!({})).await;
    let (start, _) = s.audit_head().await.expect("head");
    let t0 = custodian_domain::now() + TimeDelta::seconds(10);
    let event = |at| {
        NewEvent::new(
            &Actor::Local,
            "asset.updated",
            "asset",
            a.id,
            json!({"name": {"before": "a", "after": "b"}}),
            None,
            at,
        )
    };
    for at in [t0, t0 + TimeDelta::seconds(2), t0 + TimeDelta::seconds(1)] {
        s.commit(ChangeSet {
            writes: vec![],
            events: vec![event(at)],
        })
        .await
        .expect("event");
    }
    let written = s.events_after(start, 10).await.expect("events");
    let times: Vec<_> = written.iter().map(|e| e.occurred_at).collect();
    assert_eq!(
        times,
        vec![t0, t0 + TimeDelta::seconds(2), t0 + TimeDelta::seconds(2)],
        "the third event, prepared before the second was written, is recorded at its time"
    );
    let mut v = ChainVerifier::default();
    for e in &s.events_after(0, 100).await.expect("chain") {
        v.feed(e).expect("intact chain");
    }
    let cut = |at| async move { s.audit_head_at(at).await.expect("cut") };
    assert_eq!(cut(t0 - TimeDelta::seconds(1)).await.0, start);
    let (seq, hash) = cut(t0 + TimeDelta::seconds(1)).await;
    assert_eq!((seq, hash.as_str()), (start + 1, written[0].hash.as_str()));
    assert_eq!(cut(t0 + TimeDelta::seconds(5)).await.0, start + 3);
    let first = custodian_domain::now() - TimeDelta::days(365);
    assert_eq!(
        cut(first).await,
        (0, custodian_domain::audit::GENESIS.to_string())
    );
    let upto = s
        .entity_events("asset", None, Some(start + 1), 100)
        .await
        .expect("events up to the cut");
    assert!(upto.iter().any(|e| e.seq == start + 1));
    assert!(upto.iter().all(|e| e.seq <= start + 1), "{upto:?}");
}

/// The trail read as a history: newest first, by actor (a user's tokens included), by
/// action or a prefix of actions, by record, between two events, a page at a time.
pub async fn audit_history_filtered(s: &dyn Store) {
    let owner = setup(s).await;
    let a = add_asset(s, owner.id, "AST-000001", json!({})).await;
    let user = custodian_domain::new_id();
    let token = custodian_domain::new_id();
    let actors = [
        Actor::User(user),
        Actor::Token(user, token),
        Actor::Local,
        Actor::User(custodian_domain::new_id()),
    ];
    let mut events = Vec::new();
    for (i, actor) in actors.iter().enumerate() {
        let action = if i % 2 == 0 {
            "asset.updated"
        } else {
            "asset.transitioned"
        };
        events.push(NewEvent::new(
            actor,
            action,
            "asset",
            a.id,
            json!({"n": i}),
            None,
            custodian_domain::now(),
        ));
    }
    events.push(NewEvent::new(
        &Actor::User(user),
        "assetx.odd",
        "other",
        "x",
        json!({}),
        None,
        custodian_domain::now(),
    ));
    s.commit(ChangeSet {
        writes: vec![],
        events,
    })
    .await
    .expect("events");
    let (head, _) = s.audit_head().await.expect("head");
    let seqs = |q: EventQuery| async move {
        s.search_events(&EventQuery { limit: 50, ..q })
            .await
            .expect("search")
            .iter()
            .map(|e| e.seq)
            .collect::<Vec<_>>()
    };
    let all = seqs(EventQuery::default()).await;
    assert_eq!(all.first(), Some(&head), "newest first");
    assert!(all.windows(2).all(|w| w[0] > w[1]));
    let mine = seqs(EventQuery {
        actor: Some(format!("user:{user}")),
        ..Default::default()
    })
    .await;
    assert_eq!(mine, [head, head - 3, head - 4], "the user and their token");
    let prefix = seqs(EventQuery {
        action: Some("asset.".into()),
        entity_id: Some(a.id.to_string()),
        ..Default::default()
    })
    .await;
    assert_eq!(prefix, [head - 1, head - 2, head - 3, head - 4]);
    let exact = seqs(EventQuery {
        action: Some("asset.transitioned".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(exact, [head - 1, head - 3]);
    let other = seqs(EventQuery {
        entity_type: Some("other".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(other, [head]);
    let between = seqs(EventQuery {
        after: Some(head - 3),
        before: Some(head),
        ..Default::default()
    })
    .await;
    assert_eq!(between, [head - 1, head - 2]);
    let page = s
        .search_events(&EventQuery {
            limit: 2,
            ..Default::default()
        })
        .await
        .expect("a page");
    assert_eq!(page.len(), 2);
}
