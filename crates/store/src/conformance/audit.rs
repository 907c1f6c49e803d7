//! The audit chain and per-record history.

use super::*;

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
