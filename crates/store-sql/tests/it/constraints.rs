//! Every uniqueness rule of the schema is in the table that names its field
//! (`custodian_store_sql::UNIQUE`), as each backend reports it.

use sqlx::{Connection, Row};

use custodian_testkit::TestDb;

/// Rules no change of a user's can break: ids, positions and bookkeeping keys (settings,
/// counters and job runs are written by upserts; compliance measurement's records only by
/// the evaluation).
fn bookkeeping(name: &str, columns: &[String]) -> bool {
    name.ends_with("_id_key")
        || columns == ["seq"]
        || columns == ["id"]
        || columns == ["version"]
        || (columns == ["key"] && name.starts_with("settings"))
        || (columns == ["name"] && name.starts_with("counters"))
        || name.starts_with("sqlite_autoindex_settings")
        || name.starts_with("sqlite_autoindex_counters")
        || name.starts_with("job_runs")
        || name.starts_with("sqlite_autoindex_job_runs")
        || name.starts_with("compliance_")
        || name.starts_with("sqlite_autoindex_compliance_")
}

async fn postgres_rules(url: &str) -> Vec<(String, String)> {
    let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
    let rows = sqlx::query(
        "SELECT i.indexrelid::regclass::text AS name, t.relname AS tbl,
                array_to_string(array_agg(a.attname ORDER BY k.ord), ',') AS cols
         FROM pg_index i
         JOIN pg_class t ON t.oid = i.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema()
         CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
         WHERE i.indisunique
         GROUP BY 1, 2",
    )
    .fetch_all(&mut c)
    .await
    .expect("unique indexes");
    rows.iter()
        .map(|r| {
            let cols: String = r.get("cols");
            (r.get::<String, _>("name"), cols)
        })
        .collect()
}

async fn sqlite_rules(path: &str) -> Vec<(String, String)> {
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{path}"))
        .await
        .expect("connect");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%fts%'",
    )
    .fetch_all(&mut c)
    .await
    .expect("tables");
    let mut out = Vec::new();
    for t in tables {
        let indexes = sqlx::query(&format!("PRAGMA index_list(\"{t}\")"))
            .fetch_all(&mut c)
            .await
            .expect("indexes");
        for i in indexes {
            if i.get::<i64, _>("unique") == 0 {
                continue;
            }
            let name: String = i.get("name");
            let cols: Vec<String> = sqlx::query(&format!("PRAGMA index_info(\"{name}\")"))
                .fetch_all(&mut c)
                .await
                .expect("columns")
                .iter()
                .map(|r| format!("{t}.{}", r.get::<String, _>("name")))
                .collect();
            out.push((name, cols.join(", ")));
        }
    }
    out
}

async fn every_unique_rule_names_its_field(backend: &str) {
    let db = TestDb::new(backend).await;
    let (_, _store, _) = (
        0,
        custodian_store_sql::SqlStore::open(&db.url)
            .await
            .expect("open"),
        0,
    );
    let rules = if backend == "postgres" {
        postgres_rules(&db.url).await
    } else {
        sqlite_rules(&db.url).await
    };
    let mut missing = Vec::new();
    for (name, cols) in &rules {
        let bare: Vec<String> = cols
            .split(',')
            .map(|c| c.trim().rsplit('.').next().unwrap_or("").to_string())
            .collect();
        if bookkeeping(name, &bare) {
            continue;
        }
        let known = custodian_store_sql::UNIQUE.iter().any(|u| {
            if backend == "postgres" {
                u.postgres == name
            } else {
                u.sqlite == cols
            }
        });
        if !known {
            missing.push(format!("{name} ({cols})"));
        }
    }
    assert!(missing.is_empty(), "{backend}: not in UNIQUE: {missing:?}");
}

#[tokio::test]
async fn sqlite_every_unique_rule_names_its_field() {
    every_unique_rule_names_its_field("sqlite").await;
}

#[tokio::test]
async fn postgres_every_unique_rule_names_its_field() {
    every_unique_rule_names_its_field("postgres").await;
}
