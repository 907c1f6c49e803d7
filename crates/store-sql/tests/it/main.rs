//! The storage conformance suite on SQLite and on PostgreSQL, plus backend-level checks.

use std::sync::Arc;

use custodian_store::Store;
use custodian_store_sql::SqlStore;
use custodian_testkit::TestDb;

mod append_only;
mod bulk;
mod constraints;

/// A migrated store; the database lives as long as the returned guard.
pub async fn open(backend: &str) -> (Arc<dyn Store>, SqlStore, TestDb) {
    let db = TestDb::new(backend).await;
    let store = SqlStore::open(&db.url).await.expect("open and migrate");
    (Arc::new(store.clone()), store, db)
}

mod sqlite {
    use super::*;

    async fn make() -> Arc<dyn Store> {
        let (s, _, db) = open("sqlite").await;
        // The file must outlive the test: leak the temporary directory guard.
        std::mem::forget(db);
        s
    }

    custodian_store::conformance_tests!(make);
}

mod postgres {
    use super::*;

    async fn make() -> Arc<dyn Store> {
        open("postgres").await.0
    }

    custodian_store::conformance_tests!(make);
}
