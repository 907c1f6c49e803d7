//! Import, export and demo data against real databases: SQLite, and PostgreSQL where
//! the round trip and the demo are cheap enough to run twice.

use std::sync::Arc;

use serde_json::{Map, Value};

use custodian_app::assets::AssetView;
use custodian_app::{App, Ctx};
use custodian_store::AssetQuery;
use custodian_store_sql::SqlStore;
use custodian_testkit::TestDb;

mod demo;
mod export;
mod import;
mod read;

/// Services over a fresh, migrated database with the default classification scheme.
/// The database lives as long as the returned guard.
pub async fn app(backend: &str) -> (App, TestDb) {
    let db = TestDb::new(backend).await;
    let store = SqlStore::open(&db.url).await.expect("open and migrate");
    let app = App::new(Arc::new(store), Default::default());
    app.ensure_defaults(&Ctx::system())
        .await
        .expect("default levels");
    (app, db)
}

/// Every asset in the register, in creation order.
pub async fn all_assets(app: &App) -> Vec<AssetView> {
    let ctx = Ctx::system();
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let q = AssetQuery {
            limit: 200,
            cursor,
            ..Default::default()
        };
        let page = app.list_assets(&ctx, &q).await.expect("list assets");
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}

/// A JSON object literal as a map.
pub fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}
