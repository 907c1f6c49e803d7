//! A bulk load into an empty SQLite register drops secondary indexes and builds them again
//! at commit: afterwards the schema is exactly what migrations made, commit or rollback.

use sqlx::{Connection, Row};

async fn schema(path: &str) -> Vec<String> {
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{path}"))
        .await
        .expect("connect");
    let rows = sqlx::query("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
        .fetch_all(&mut c)
        .await
        .expect("schema");
    rows.iter()
        .map(|r| {
            let sql: Option<String> = r.get("sql");
            format!(
                "{} {} {}",
                r.get::<String, _>("type"),
                r.get::<String, _>("name"),
                sql.unwrap_or_default()
            )
        })
        .collect()
}

#[tokio::test]
async fn sqlite_bulk_load_restores_every_index() {
    let (store, _, db) = crate::open("sqlite").await;
    let before = schema(&db.url).await;
    assert!(before.iter().any(|s| s.starts_with("index assets_owner ")));
    assert!(before
        .iter()
        .any(|s| s.starts_with("trigger assets_fts_insert ")));
    custodian_store::conformance::bulk_load_into_empty_register(&*store).await;
    assert_eq!(schema(&db.url).await, before);
}
