//! Stocktakes: the queries behind a session's report.

use crate::rows::{self, ASSET_COLS};
use crate::{clamp, Listing, SqlStore};
use custodian_domain::asset::Asset;
use custodian_domain::stocktake::{
    ScanResult, Stocktake, StocktakeScan, StocktakeStatus, NOT_EXPECTED,
};
use custodian_store::Result;
use custodian_store::{Cursor, Page, ScanQuery, StocktakeCounts, StocktakeQuery};
use uuid::Uuid;

use super::*;
use crate::db::{Row, Sql};
use crate::rows::word;
use crate::tx::SqlTx;
use custodian_store::*;

pub const STOCKTAKE_COLS: &str = "seq, id, location_id, include_sublocations, status, started_at, started_by, closed_at, closed_by, notes, version, created_at, updated_at";

pub const SCAN_COLS: &str = "seq, id, stocktake_id, asset_id, entered, scanned_at, scanned_by, result, registered_location_id";

pub fn stocktake_values(t: &Stocktake) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("id", t.id.into()),
        ("location_id", t.location_id.into()),
        ("include_sublocations", t.include_sublocations.into()),
        ("status", t.status.as_str().into()),
        ("started_at", t.started_at.into()),
        ("started_by", t.started_by.into()),
        ("closed_at", t.closed_at.into()),
        ("closed_by", t.closed_by.into()),
        ("notes", t.notes.clone().into()),
        ("version", t.version.into()),
        ("created_at", t.created_at.into()),
        ("updated_at", t.updated_at.into()),
    ]
}

pub fn stocktake(row: &Row) -> Result<(i64, Stocktake)> {
    Ok((
        row.get("seq")?,
        Stocktake {
            id: row.get("id")?,
            location_id: row.get("location_id")?,
            include_sublocations: row.get("include_sublocations")?,
            status: word(row, "status", StocktakeStatus::parse)?,
            started_at: row.get("started_at")?,
            started_by: row.get("started_by")?,
            closed_at: row.get("closed_at")?,
            closed_by: row.get("closed_by")?,
            notes: row.get("notes")?,
            version: row.get("version")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        },
    ))
}

pub fn scan_values(x: &StocktakeScan) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("id", x.id.into()),
        ("stocktake_id", x.stocktake_id.into()),
        ("asset_id", x.asset_id.into()),
        ("entered", x.entered.clone().into()),
        ("scanned_at", x.scanned_at.into()),
        ("scanned_by", x.scanned_by.into()),
        ("result", x.result.as_str().into()),
        ("registered_location_id", x.registered_location_id.into()),
    ]
}

pub fn scan(row: &Row) -> Result<(i64, StocktakeScan)> {
    Ok((
        row.get("seq")?,
        StocktakeScan {
            id: row.get("id")?,
            stocktake_id: row.get("stocktake_id")?,
            asset_id: row.get("asset_id")?,
            entered: row.get("entered")?,
            scanned_at: row.get("scanned_at")?,
            scanned_by: row.get("scanned_by")?,
            result: word(row, "result", ScanResult::parse)?,
            registered_location_id: row.get("registered_location_id")?,
        },
    ))
}

/// The places a stocktake counts, as a subquery: its location, and every place inside it
/// when it includes them.
fn area(sql: &mut Sql, t: &Stocktake) -> String {
    let root = sql.arg(t.location_id);
    if t.include_sublocations {
        format!(
            "WITH RECURSIVE sub(id) AS (SELECT id FROM locations WHERE id = {root} \
             UNION SELECT l.id FROM locations l JOIN sub ON l.parent_id = sub.id) SELECT id FROM sub"
        )
    } else {
        format!("SELECT id FROM locations WHERE id = {root}")
    }
}

/// The condition on `assets a` of an asset the stocktake expects and has not scanned.
pub(crate) fn unscanned_expected(sql: &mut Sql, t: &Stocktake) -> String {
    let area = area(sql, t);
    let statuses = sql.list(NOT_EXPECTED.iter().map(|s| s.as_str()));
    let me = sql.arg(t.id);
    format!(
        "a.location_id IN ({area}) AND a.status NOT IN {statuses} AND NOT EXISTS \
         (SELECT 1 FROM stocktake_scans s WHERE s.stocktake_id = {me} AND s.asset_id = a.id)"
    )
}

/// The statement that fixes a closing stocktake's missing assets.
pub(crate) fn snapshot_missing(t: &Stocktake) -> Sql {
    let mut sql = Sql::new("");
    let cond = unscanned_expected(&mut sql, t);
    let me = sql.arg(t.id);
    sql.text = format!(
        "INSERT INTO stocktake_missing (stocktake_id, asset_id, asset_seq) \
         SELECT {me}, a.id, a.seq FROM assets a WHERE {cond}"
    );
    sql
}

impl SqlStore {
    pub(crate) async fn assets_by_number_nocase_sql(&self, number: &str) -> Result<Vec<Asset>> {
        let sql = Sql::new(format!(
            "SELECT {ASSET_COLS} FROM assets a WHERE lower(a.asset_number) = $1 ORDER BY a.seq LIMIT 2"
        ))
        .bind(number.to_ascii_lowercase());
        self.fetch_assets(sql).await
    }

    pub(crate) async fn location_subtree_sql(&self, root: Uuid) -> Result<Vec<Uuid>> {
        let sql = Sql::new(
            "WITH RECURSIVE sub(id) AS (SELECT id FROM locations WHERE id = $1 \
             UNION SELECT l.id FROM locations l JOIN sub ON l.parent_id = sub.id) SELECT id FROM sub",
        )
        .bind(root);
        self.pools.fetch_rows(sql, |r| r.get::<Uuid>("id")).await
    }

    pub(crate) async fn stocktake_sql(&self, id: Uuid) -> Result<Option<Stocktake>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM stocktakes WHERE id = $1",
            rows::STOCKTAKE_COLS
        ))
        .bind(id);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| rows::stocktake(&r).map(|(_, t)| t))
            .transpose()
    }

    pub(crate) async fn list_stocktakes_sql(&self, q: &StocktakeQuery) -> Result<Page<Stocktake>> {
        let mut sql = Sql::new("");
        let mut conds = Vec::new();
        if let Some(st) = q.status {
            conds.push(format!("status = {}", sql.arg(st.as_str())));
        }
        if let Some(l) = q.location_id {
            conds.push(format!("location_id = {}", sql.arg(l)));
        }
        self.fetch_directed(
            sql,
            rows::STOCKTAKE_COLS,
            "stocktakes",
            conds,
            q.cursor,
            q.limit,
            true,
            rows::stocktake,
        )
        .await
    }

    pub(crate) async fn list_stocktake_scans_sql(
        &self,
        q: &ScanQuery,
    ) -> Result<Page<StocktakeScan>> {
        let mut sql = Sql::new("");
        let mut conds = vec![format!("stocktake_id = {}", sql.arg(q.stocktake_id))];
        if let Some(r) = q.result {
            conds.push(format!("result = {}", sql.arg(r.as_str())));
        }
        if let Some(a) = q.asset_id {
            conds.push(format!("asset_id = {}", sql.arg(a)));
        }
        if let Some(id) = q.id {
            conds.push(format!("id = {}", sql.arg(id)));
        }
        self.fetch_directed(
            sql,
            rows::SCAN_COLS,
            "stocktake_scans",
            conds,
            q.cursor,
            q.limit,
            false,
            rows::scan,
        )
        .await
    }

    pub(crate) async fn stocktake_missing_sql(
        &self,
        t: &Stocktake,
        limit: u32,
        cursor: Option<Cursor>,
    ) -> Result<Page<Asset>> {
        let mut sql = Sql::new("");
        let (from, key, conds) = if t.status == StocktakeStatus::Closed {
            (
                "stocktake_missing m JOIN assets a ON a.seq = m.asset_seq",
                "m.asset_seq",
                vec![format!("m.stocktake_id = {}", sql.arg(t.id))],
            )
        } else {
            ("assets a", "a.seq", vec![unscanned_expected(&mut sql, t)])
        };
        let listing = Listing {
            cols: ASSET_COLS,
            from,
            key,
            conds,
            cursor,
            limit: clamp(limit),
        };
        self.fetch_page(sql, listing, rows::asset).await
    }

    pub(crate) async fn stocktake_counts_sql(&self, t: &Stocktake) -> Result<StocktakeCounts> {
        let mut out = StocktakeCounts::default();
        let sql = Sql::new(
            "SELECT result, COUNT(*) AS n FROM stocktake_scans WHERE stocktake_id = $1 GROUP BY result",
        )
        .bind(t.id);
        for r in self.pools.fetch_all(sql).await? {
            let n: i64 = r.get("n")?;
            match r.get::<String>("result")?.as_str() {
                "found" => out.found = n,
                "unexpected" => out.unexpected = n,
                _ => out.unknown += n,
            }
        }
        let sql = if t.status == StocktakeStatus::Closed {
            Sql::new("SELECT COUNT(*) AS n FROM stocktake_missing WHERE stocktake_id = $1")
                .bind(t.id)
        } else {
            let mut sql = Sql::new("");
            let cond = unscanned_expected(&mut sql, t);
            sql.text = format!("SELECT COUNT(*) AS n FROM assets a WHERE {cond}");
            sql
        };
        out.missing = self.pools.fetch_one(sql).await?.get("n")?;
        out.expected = out.found + out.missing;
        Ok(out)
    }
}

#[async_trait]
impl StocktakeStore for SqlStore {
    async fn stocktake(&self, id: Uuid) -> Result<Option<Stocktake>> {
        self.stocktake_sql(id).await
    }

    async fn list_stocktakes(&self, q: &StocktakeQuery) -> Result<Page<Stocktake>> {
        self.list_stocktakes_sql(q).await
    }

    async fn list_stocktake_scans(&self, q: &ScanQuery) -> Result<Page<StocktakeScan>> {
        self.list_stocktake_scans_sql(q).await
    }

    async fn stocktake_missing(
        &self,
        stocktake: &Stocktake,
        limit: u32,
        cursor: Option<Cursor>,
    ) -> Result<Page<Asset>> {
        self.stocktake_missing_sql(stocktake, limit, cursor).await
    }

    async fn stocktake_counts(&self, stocktake: &Stocktake) -> Result<StocktakeCounts> {
        self.stocktake_counts_sql(stocktake).await
    }
}

impl SqlTx {
    /// Applies a change to stocktakes and their scans.
    pub(crate) async fn write_stocktakes(&mut self, w: StocktakeWrite) -> Result<()> {
        match w {
            StocktakeWrite::InsertStocktake(t) => {
                self.insert_row("stocktakes", rows::stocktake_values(&t))
                    .await
            }
            StocktakeWrite::CloseStocktake {
                stocktake,
                expected_version,
            } => {
                self.update_row(
                    "stocktakes",
                    "stocktake",
                    stocktake.id,
                    rows::stocktake_values(&stocktake),
                    expected_version,
                )
                .await?;
                self.conn
                    .execute(crate::stocktakes::snapshot_missing(&stocktake))
                    .await
                    .map(drop)
            }
            StocktakeWrite::InsertStocktakeScan(x) => {
                self.insert_row("stocktake_scans", rows::scan_values(&x))
                    .await
            }
        }
    }
}
