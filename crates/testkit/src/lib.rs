//! Test helpers: a fresh, empty database per test, on SQLite or PostgreSQL.
//!
//! PostgreSQL tests read the server's URL from `CUSTODIAN_TEST_POSTGRES_URL` (the
//! README's test command sets it) and isolate each test in a schema of its own.

use std::path::PathBuf;

use sqlx::Connection;

/// The environment variable naming the PostgreSQL server tests use.
pub const PG_ENV: &str = "CUSTODIAN_TEST_POSTGRES_URL";

/// A fresh database; keeps its files alive while it lives.
pub struct TestDb {
    /// The URL to give `--database`.
    pub url: String,
    /// The backend: `sqlite` or `postgres`.
    pub backend: &'static str,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A new SQLite file in a temporary directory.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path: PathBuf = dir.path().join("custodian.db");
        Self {
            url: path.display().to_string(),
            backend: "sqlite",
            _dir: Some(dir),
        }
    }

    /// A new, empty schema on the test PostgreSQL server.
    pub async fn postgres() -> Self {
        let base = std::env::var(PG_ENV).unwrap_or_else(|_| {
            panic!("{PG_ENV} is not set: run the test suite with ./scripts/test, which starts PostgreSQL and sets it")
        });
        let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
        let mut conn = sqlx::PgConnection::connect(&base)
            .await
            .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {PG_ENV}: {e}"));
        sqlx::raw_sql(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut conn)
            .await
            .expect("create schema");
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        Self {
            url,
            backend: "postgres",
            _dir: None,
        }
    }

    /// A fresh database of the named backend.
    pub async fn new(backend: &str) -> Self {
        match backend {
            "postgres" => Self::postgres().await,
            _ => Self::sqlite(),
        }
    }
}

impl TestDb {
    /// Runs SQL directly on the database, behind Custodian's back (to tamper with it in tests).
    pub async fn execute(&self, sql: &str) -> Result<(), String> {
        if self.backend == "postgres" {
            let mut c = sqlx::PgConnection::connect(&self.url)
                .await
                .map_err(|e| e.to_string())?;
            sqlx::raw_sql(sql)
                .execute(&mut c)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        } else {
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", self.url))
                .await
                .map_err(|e| e.to_string())?;
            sqlx::raw_sql(sql)
                .execute(&mut c)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        }
    }
}
