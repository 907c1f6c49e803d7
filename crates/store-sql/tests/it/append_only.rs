//! The database itself refuses to change or remove audit events.

use custodian_domain::audit::{Actor, NewEvent};
use custodian_store::ChangeSet;
use custodian_store_sql::SqlStore;
use serde_json::json;

async fn refuses_tampering(backend: &str) {
    let (store, sql, db) = crate::open(backend).await;
    let e = NewEvent::new(
        &Actor::System,
        "test.event",
        "test",
        1,
        json!({}),
        None,
        custodian_domain::now(),
    );
    store
        .commit(ChangeSet {
            writes: vec![],
            events: vec![e],
        })
        .await
        .expect("append");
    for stmt in [
        "UPDATE audit_events SET actor = 'mallory'",
        "DELETE FROM audit_events",
    ] {
        let err = db.execute(stmt).await.expect_err("must be refused");
        assert!(err.contains("append-only"), "{stmt}: {err}");
    }
    assert_eq!(store.audit_head().await.expect("head").0, 1);
    assert_eq!(
        SqlStore::latest_schema(),
        sql.schema_version().await.expect("version")
    );
    // Migrating again is a no-op.
    assert!(sql.migrate().await.expect("migrate").is_empty());
    drop(db);
}

#[tokio::test]
async fn sqlite_refuses_tampering() {
    refuses_tampering("sqlite").await;
}

#[tokio::test]
async fn postgres_refuses_tampering() {
    refuses_tampering("postgres").await;
}

/// An approved policy version's renderings are never changed or removed: what was
/// approved stays the bytes every later download gives.
async fn refuses_changing_a_kept_rendering(backend: &str) {
    use custodian_domain::policy::{DocumentFormat, PolicyRendering, PolicyVersion};
    use custodian_store::{PolicyWrite, Write};
    let (store, _sql, db) = crate::open(backend).await;
    let now = custodian_domain::now();
    let mut input = serde_json::Map::new();
    for (k, v) in [
        ("document", json!("asset_management")),
        ("number", json!("1.0")),
        ("body", json!("# Purpose")),
        ("effective_date", json!("2026-01-01")),
    ] {
        input.insert(k.into(), v);
    }
    let p = PolicyVersion::from_input(&input, now).expect("a draft");
    let kept = PolicyRendering::new(p.id, DocumentFormat::Pdf, b"%PDF-1.7 kept".to_vec(), now);
    // A change is recorded by an event: the approval's.
    let approved = NewEvent::new(
        &Actor::System,
        "policy.approved",
        "policy",
        p.id,
        json!({}),
        None,
        now,
    );
    store
        .commit(ChangeSet {
            writes: vec![
                Write::Policy(PolicyWrite::InsertPolicy(Box::new(p.clone()))),
                Write::Policy(PolicyWrite::InsertRendering(Box::new(kept.clone()))),
            ],
            events: vec![approved.clone()],
        })
        .await
        .expect("kept");
    for stmt in [
        "UPDATE policy_renderings SET sha256 = 'forged'",
        "DELETE FROM policy_renderings",
    ] {
        let err = db.execute(stmt).await.expect_err("must be refused");
        assert!(err.contains("never"), "{stmt}: {err}");
    }
    let again = store
        .policy_rendering(p.id, DocumentFormat::Pdf)
        .await
        .expect("read");
    assert_eq!(again, Some(kept));
    // A second rendering of the same format is refused too.
    let twice = store
        .commit(ChangeSet {
            writes: vec![Write::Policy(PolicyWrite::InsertRendering(Box::new(
                PolicyRendering::new(p.id, DocumentFormat::Pdf, b"other".to_vec(), now),
            )))],
            events: vec![approved.clone()],
        })
        .await;
    assert!(twice.is_err(), "{twice:?}");
}

#[tokio::test]
async fn sqlite_refuses_changing_a_kept_rendering() {
    refuses_changing_a_kept_rendering("sqlite").await;
}

#[tokio::test]
async fn postgres_refuses_changing_a_kept_rendering() {
    refuses_changing_a_kept_rendering("postgres").await;
}
