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
