//! Custodian's SQL storage: SQLite (the default, a file in WAL mode) and PostgreSQL.
//!
//! Queries are written once (see [`db`]); the schema is written per dialect in
//! `schema/`. Migrations run at start and by `custodian migrate`.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use uuid::Uuid;

use chrono::{DateTime, Utc};
use custodian_domain::account::{ApiToken, Session, User};
use custodian_domain::asset::{Asset, Relation};
use custodian_domain::attestation::{Attestation, AttestationStatus};
use custodian_domain::audit::Event;
use custodian_domain::classification::Classification;
use custodian_domain::custody::Assignment;
use custodian_domain::custom::CustomFieldDef;
use custodian_domain::exception::PolicyException;
use custodian_domain::lifecycle::{DisposalRecord, IncidentReport};
use custodian_domain::location::Location;
use custodian_domain::offboarding::Offboarding;
use custodian_domain::party::{Delegation, Party, PartyKind};
use custodian_domain::policy::{Acknowledgement, PolicyDocument, PolicyVersion};
use custodian_domain::stocktake::{Stocktake, StocktakeScan};
use custodian_store::{
    AcknowledgementQuery, AssetQuery, AssetSort, AssignmentQuery, Cursor, DelegationQuery,
    ExceptionQuery, OffboardingQuery, Page, PartyQuery, PartyRef, Result, ScanQuery,
    StocktakeCounts, StocktakeQuery, Store, StoreError, Tx,
};

mod bulk;
mod chain;
mod db;
mod jobs;
pub use db::{Unique, UNIQUE};
mod rows;
mod stocktakes;
mod tx;
mod writer;

use db::{Dialect, Pools, Row, Sql};
use rows::{ASSET_COLS, PARTY_COLS};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "register",
        sqlite: include_str!("schema/sqlite_001.sql"),
        postgres: include_str!("schema/postgres_001.sql"),
    },
    Migration {
        version: 2,
        name: "accounts",
        sqlite: include_str!("schema/sqlite_002.sql"),
        postgres: include_str!("schema/postgres_002.sql"),
    },
    Migration {
        version: 3,
        name: "sorted lists",
        sqlite: include_str!("schema/sqlite_003.sql"),
        postgres: include_str!("schema/postgres_003.sql"),
    },
    Migration {
        version: 4,
        name: "policy workflows",
        sqlite: include_str!("schema/sqlite_004.sql"),
        postgres: include_str!("schema/postgres_004.sql"),
    },
    Migration {
        version: 5,
        name: "offboarding and attestation",
        sqlite: include_str!("schema/sqlite_005.sql"),
        postgres: include_str!("schema/postgres_005.sql"),
    },
    Migration {
        version: 6,
        name: "stocktakes",
        sqlite: include_str!("schema/sqlite_006.sql"),
        postgres: include_str!("schema/postgres_006.sql"),
    },
    Migration {
        version: chain::SEALS_MIGRATION,
        name: "audit seals",
        sqlite: include_str!("schema/sqlite_007.sql"),
        postgres: include_str!("schema/postgres_007.sql"),
    },
    Migration {
        version: 8,
        name: "incident references added later",
        sqlite: include_str!("schema/sqlite_008.sql"),
        postgres: include_str!("schema/postgres_008.sql"),
    },
    Migration {
        version: 9,
        name: "scheduled jobs",
        sqlite: include_str!("schema/sqlite_009.sql"),
        postgres: include_str!("schema/postgres_009.sql"),
    },
];

/// The SQLite writer's page cache, in KiB.
pub(crate) const WRITER_CACHE_KIB: i64 = 16 * 1024;

/// The largest page a list returns.
pub const MAX_PAGE: u32 = 500;

/// A register stored in SQLite or PostgreSQL.
#[derive(Clone, Debug)]
pub struct SqlStore {
    pools: Pools,
    writer: writer::Writer,
    /// SQLite: the connection that folds the write-ahead log back into the database, off
    /// the writer's path.
    checkpointer: Option<sqlx::SqlitePool>,
    /// The key the audit chain is sealed with.
    chain: chain::ChainRef,
}

/// How often the write-ahead log is folded back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);
/// The writer folds the log back itself only past this many pages (a safety net for when
/// the checkpointer falls behind).
const WRITER_CHECKPOINT_PAGES: u32 = 8192;

/// Folds the write-ahead log back into the database now and then (`PASSIVE`: never waits
/// for the writer or readers), so that commits do not pay for it; ends when the pool is
/// closed.
fn start_checkpointer(pool: sqlx::SqlitePool) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if pool.is_closed() {
                return;
            }
            if let Err(e) = sqlx::raw_sql("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await
            {
                if pool.is_closed() {
                    return;
                }
                tracing::debug!("background checkpoint: {e}");
            }
        }
    });
}

/// Where a database URL points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A SQLite file.
    Sqlite(String),
    /// A PostgreSQL URL.
    Postgres(String),
}

impl Target {
    /// Reads `--database`: a path, `sqlite://PATH`, `sqlite:PATH` or `postgres://…`.
    pub fn parse(url: &str) -> std::result::Result<Self, String> {
        let url = url.trim();
        if url.is_empty() {
            return Err("the database is empty: give a SQLite path or a postgres:// URL".into());
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Target::Postgres(url.into()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        let path = path.split('?').next().unwrap_or(path);
        if path.is_empty() || path == ":memory:" {
            return Err(
                "give SQLite a file path (an in-memory database would vanish with the process)"
                    .into(),
            );
        }
        if url.contains("://") && !url.starts_with("sqlite://") {
            return Err(format!(
                "unsupported database URL {url:?}: use a SQLite path or postgres://"
            ));
        }
        Ok(Target::Sqlite(path.into()))
    }
}

impl SqlStore {
    /// Connects (creating a SQLite file if missing) without migrating.
    pub async fn connect(url: &str) -> Result<Self> {
        let target = Target::parse(url).map_err(StoreError::Unavailable)?;
        let mut checkpointer = None;
        let pools = match target {
            Target::Postgres(url) => {
                let opts = PgConnectOptions::from_str(&url)
                    .map_err(|e| StoreError::Unavailable(format!("bad PostgreSQL URL: {e}")))?
                    // Migrations' IF NOT EXISTS notices are not worth a log line.
                    .options([
                        ("client_min_messages", "warning"),
                        // Plan each query for its actual arguments: a generic plan cannot
                        // tell a rare search word from a common one.
                        ("plan_cache_mode", "force_custom_plan"),
                    ]);
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                Pools::Pg(pool)
            }
            Target::Sqlite(path) => {
                let base = SqliteConnectOptions::new()
                    .filename(&path)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    .pragma("temp_store", "memory");
                let write = SqlitePoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(
                        base.clone()
                            .create_if_missing(true)
                            .pragma("cache_size", format!("-{WRITER_CACHE_KIB}"))
                            .pragma("journal_size_limit", "67108864")
                            .pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES.to_string()),
                    )
                    .await
                    .map_err(|e| StoreError::Unavailable(format!("cannot open {path}: {e}")))?;
                let readers = std::thread::available_parallelism()
                    .map_or(4, |n| n.get() * 2)
                    .clamp(2, 8) as u32;
                let read = SqlitePoolOptions::new()
                    .max_connections(readers)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_lazy_with(base.clone().read_only(true));
                let cp = SqlitePoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_lazy_with(base);
                start_checkpointer(cp.clone());
                checkpointer = Some(cp);
                Pools::Sqlite { write, read }
            }
        };
        let chain = chain::ChainRef::default();
        let writer = writer::Writer::start(pools.clone(), chain.clone());
        Ok(Self {
            pools,
            writer,
            checkpointer,
            chain,
        })
    }

    /// Connects and applies pending migrations.
    pub async fn open(url: &str) -> Result<Self> {
        let s = Self::connect(url).await?;
        s.migrate().await?;
        Ok(s)
    }

    /// Folds the SQLite write-ahead log back into the database and empties it, then closes
    /// the connections. Call before the process exits.
    pub async fn close(&self) {
        if let Pools::Sqlite { write, read } = &self.pools {
            if let Some(cp) = &self.checkpointer {
                cp.close().await;
            }
            read.close().await;
            if let Err(e) = sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(write)
                .await
            {
                tracing::warn!("could not checkpoint the write-ahead log: {e}");
            }
            write.close().await;
        }
    }

    /// The assets a query of [`ASSET_COLS`] answers.
    pub(crate) async fn fetch_assets(&self, sql: Sql) -> Result<Vec<Asset>> {
        self.pools
            .fetch_all(sql)
            .await?
            .iter()
            .map(|r| rows::asset(r).map(|(_, a)| a))
            .collect()
    }

    /// Applies pending migrations; returns the versions applied.
    pub async fn migrate(&self) -> Result<Vec<i64>> {
        let mut tx = self.pools.begin().await?;
        let pg = tx.dialect() == Dialect::Postgres;
        if pg {
            // Several instances may start at once: one migrates, the others wait.
            tx.raw("SELECT pg_advisory_xact_lock(7262771)").await?;
        }
        tx.raw("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)").await?;
        let done: Vec<i64> = tx
            .fetch_all(Sql::new("SELECT version FROM schema_migrations"))
            .await?
            .iter()
            .map(|r| r.get::<i64>("version"))
            .collect::<Result<_>>()?;
        let mut applied = Vec::new();
        for m in MIGRATIONS.iter().filter(|m| !done.contains(&m.version)) {
            tx.raw(if pg { m.postgres } else { m.sqlite }).await?;
            tx.execute(
                Sql::new(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                )
                .bind(m.version)
                .bind(m.name)
                .bind(custodian_domain::value::format_timestamp(
                    &custodian_domain::now(),
                )),
            )
            .await?;
            applied.push(m.version);
        }
        tx.commit().await?;
        if applied.contains(&chain::SEALS_MIGRATION) {
            self.chain.allow_first_seal();
        }
        Ok(applied)
    }

    /// The newest schema version this build knows.
    pub fn latest_schema() -> i64 {
        MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// The schema version the database is at.
    pub async fn schema_version(&self) -> Result<i64> {
        let r = self
            .pools
            .fetch_one(Sql::new(
                "SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations",
            ))
            .await?;
        r.get::<i64>("v")
    }

    fn pg(&self) -> bool {
        self.pools.dialect() == Dialect::Postgres
    }

    async fn fill_members(&self, parties: &mut [Party]) -> Result<()> {
        let teams: Vec<Uuid> = parties
            .iter()
            .filter(|p| p.kind == PartyKind::Team)
            .map(|p| p.id)
            .collect();
        if teams.is_empty() {
            return Ok(());
        }
        let mut sql = Sql::new("SELECT team_id, person_id FROM team_members WHERE team_id IN ");
        sql.push_list(teams);
        sql.push(" ORDER BY team_id, position");
        for r in self.pools.fetch_all(sql).await? {
            let (t, m): (Uuid, Uuid) = (r.get("team_id")?, r.get("person_id")?);
            if let Some(p) = parties.iter_mut().find(|p| p.id == t) {
                p.member_ids.push(m);
            }
        }
        Ok(())
    }
}

/// Up to this many matches, a PostgreSQL search reads its matches through the text index
/// and pages through them; beyond it, the word is common enough that walking the table in
/// page order finds a page sooner.
const RARE_MATCHES: usize = 2000;

impl SqlStore {
    /// The `seq` of every asset after `cursor` matching a text query, when there are at most
    /// [`RARE_MATCHES`]; `None` when there are more. (PostgreSQL misjudges how many rows a
    /// prefix query matches, and would otherwise walk the whole table for a rare word.)
    async fn rare_matches(&self, tsq: &str, cursor: Option<Cursor>) -> Result<Option<Vec<i64>>> {
        let mut sql = Sql::new("");
        let m = sql.arg(tsq);
        let after = match cursor {
            Some(c) => format!(" AND seq > {}", sql.arg(c.0)),
            None => String::new(),
        };
        sql.text = format!(
            "SELECT seq FROM assets WHERE search_tsv @@ to_tsquery('simple', {m}){after} LIMIT {}",
            RARE_MATCHES + 1
        );
        let rows = self.pools.fetch_all(sql).await?;
        if rows.len() > RARE_MATCHES {
            return Ok(None);
        }
        rows.iter()
            .map(|r| r.get::<i64>("seq"))
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }
}

/// A keyset-paged list query: its columns, source, key and filters.
struct Listing<'a> {
    cols: &'a str,
    from: &'a str,
    key: &'a str,
    conds: Vec<String>,
    cursor: Option<Cursor>,
    limit: u32,
}

impl SqlStore {
    /// An asset list in an order other than registration: keyset-paged on the sort value
    /// and the row's position, which breaks ties.
    async fn sorted_assets(
        &self,
        mut sql: Sql,
        from: &str,
        mut conds: Vec<String>,
        q: &AssetQuery,
        limit: u32,
    ) -> Result<Page<Asset>> {
        let bad_key = || StoreError::Other("the cursor does not fit this order".into());
        let order = match q.sort {
            AssetSort::Registered => "a.seq",
            AssetSort::Newest => {
                if let Some(c) = q.cursor {
                    conds.push(format!("a.seq < {}", sql.arg(c.0)));
                }
                "a.seq DESC"
            }
            AssetSort::Number => {
                if let Some(k) = &q.after_key {
                    conds.push(format!("a.asset_number > {}", sql.arg(k.clone())));
                }
                "a.asset_number"
            }
            AssetSort::Name => {
                // Byte order on both backends (PostgreSQL's index is built in it).
                let name = if self.pg() {
                    "a.name COLLATE \"C\""
                } else {
                    "a.name"
                };
                if let (Some(k), Some(c)) = (&q.after_key, q.cursor) {
                    // Written so that both planners start the index scan at the key.
                    let (k1, k2, s) = (sql.arg(k.clone()), sql.arg(k.clone()), sql.arg(c.0));
                    conds.push(format!("{name} >= {k1} AND ({name} > {k2} OR a.seq > {s})"));
                }
                if self.pg() {
                    "a.name COLLATE \"C\", a.seq"
                } else {
                    "a.name, a.seq"
                }
            }
            AssetSort::NextReview => {
                conds.push("a.next_review_at IS NOT NULL".into());
                if let (Some(k), Some(c)) = (&q.after_key, q.cursor) {
                    let d: chrono::NaiveDate = k.parse().map_err(|_| bad_key())?;
                    let (k1, k2, s) = (sql.arg(d), sql.arg(d), sql.arg(c.0));
                    conds.push(format!(
                        "a.next_review_at >= {k1} AND (a.next_review_at > {k2} OR a.seq > {s})"
                    ));
                }
                "a.next_review_at, a.seq"
            }
        };
        self.fetch_ordered(sql, ASSET_COLS, from, conds, order, limit, rows::asset)
            .await
    }

    /// Runs `SELECT cols FROM from WHERE conds ORDER BY order`, one page long.
    #[allow(clippy::too_many_arguments)]
    async fn fetch_ordered<T>(
        &self,
        mut sql: Sql,
        cols: &str,
        from: &str,
        conds: Vec<String>,
        order: &str,
        limit: u32,
        map: fn(&Row) -> Result<(i64, T)>,
    ) -> Result<Page<T>> {
        let filter = if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        };
        sql.text = format!(
            "SELECT {cols} FROM {from}{filter} ORDER BY {order} LIMIT {}",
            limit + 1
        );
        let rows = self
            .pools
            .fetch_all(sql)
            .await?
            .iter()
            .map(map)
            .collect::<Result<Vec<_>>>()?;
        Ok(page(rows, limit))
    }

    /// Runs a listing: the rows after the cursor, in key order, one page long.
    async fn fetch_page<T>(
        &self,
        mut sql: Sql,
        l: Listing<'_>,
        map: fn(&Row) -> Result<(i64, T)>,
    ) -> Result<Page<T>> {
        let limit = clamp(l.limit);
        let mut conds = l.conds;
        if let Some(c) = l.cursor {
            conds.push(format!("{} > {}", l.key, sql.arg(c.0)));
        }
        self.fetch_ordered(sql, l.cols, l.from, conds, l.key, limit, map)
            .await
    }
}

/// Builds a page from `limit + 1` rows fetched in key order.
fn page<T>(mut rows: Vec<(i64, T)>, limit: u32) -> Page<T> {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|(k, _)| Cursor(*k))
    } else {
        None
    };
    Page {
        items: rows.into_iter().map(|(_, v)| v).collect(),
        next_cursor,
    }
}

fn clamp(limit: u32) -> u32 {
    limit.clamp(1, MAX_PAGE)
}

/// The words of a search, each a prefix to match, or `None` when it has no words.
fn search_terms(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(str::to_lowercase)
        .collect()
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> &'static str {
        if self.pg() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    async fn ping(&self) -> Result<()> {
        self.pools
            .fetch_one(Sql::new("SELECT 1 AS one"))
            .await
            .map(drop)
    }

    async fn commit(&self, changes: custodian_store::ChangeSet) -> Result<()> {
        self.writer.commit(changes).await
    }

    async fn begin_bulk(&self) -> Result<Box<dyn Tx>> {
        let mut tx = tx::SqlTx::new(
            self.pools.begin().await?,
            self.pools.clone(),
            self.chain.clone(),
        );
        tx.make_bulk().await?;
        Ok(Box::new(bulk::BulkTx::start(tx)))
    }

    async fn find_assets(
        &self,
        key: custodian_store::MatchKey,
        values: &[String],
    ) -> Result<Vec<Asset>> {
        tx::find_assets(&self.pools, key, values).await
    }

    async fn reserve_asset_numbers(&self, prefix: &str, n: usize) -> Result<Vec<String>> {
        let mut tx = self.begin().await?;
        let numbers = tx.reserve_asset_numbers(prefix, n).await?;
        tx.commit().await?;
        Ok(numbers)
    }

    async fn taken_asset_numbers(&self, numbers: &[String]) -> Result<Vec<String>> {
        let mut taken = Vec::new();
        for chunk in numbers.chunks(400) {
            let mut sql = Sql::new("SELECT asset_number FROM assets WHERE asset_number IN ");
            sql.push_list(chunk.iter().cloned());
            for r in self.pools.fetch_all(sql).await? {
                taken.push(r.get::<String>("asset_number")?);
            }
        }
        Ok(taken)
    }

    async fn begin(&self) -> Result<Box<dyn Tx>> {
        Ok(Box::new(tx::SqlTx::new(
            self.pools.begin().await?,
            self.pools.clone(),
            self.chain.clone(),
        )))
    }

    async fn asset(&self, id: Uuid) -> Result<Option<Asset>> {
        let sql = Sql::new(format!("SELECT {ASSET_COLS} FROM assets a WHERE a.id = $1")).bind(id);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| rows::asset(&r).map(|(_, a)| a))
            .transpose()
    }

    async fn asset_by_number(&self, number: &str) -> Result<Option<Asset>> {
        let sql = Sql::new(format!(
            "SELECT {ASSET_COLS} FROM assets a WHERE a.asset_number = $1"
        ))
        .bind(number);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| rows::asset(&r).map(|(_, a)| a))
            .transpose()
    }

    async fn list_assets(&self, q: &AssetQuery) -> Result<Page<Asset>> {
        let limit = clamp(q.limit);
        let mut sql = Sql::new("");
        let mut from = String::from("assets a");
        let mut conds: Vec<String> = Vec::new();
        // The key the page is ordered by: the search index's rowid when searching on SQLite
        // (FTS5 returns matches in rowid order, and rowid is the asset's seq), else seq.
        let mut key = "a.seq";
        if let Some(text) = q.q.as_deref().filter(|t| !t.trim().is_empty()) {
            let terms = search_terms(text);
            if terms.is_empty() {
                return Ok(Page {
                    items: vec![],
                    next_cursor: None,
                });
            }
            if self.pg() {
                let tsq: Vec<String> = terms.iter().map(|t| format!("{t}:*")).collect();
                let tsq = tsq.join(" & ");
                match self.rare_matches(&tsq, q.cursor).await? {
                    // Few matches: page through exactly those rows.
                    Some(seqs) if seqs.is_empty() => {
                        return Ok(Page {
                            items: vec![],
                            next_cursor: None,
                        })
                    }
                    Some(seqs) => {
                        let ps: Vec<String> = seqs.into_iter().map(|n| sql.arg(n)).collect();
                        conds.push(format!("a.seq IN ({})", ps.join(", ")));
                    }
                    // Many matches: walking the table in page order finds a page at once.
                    None => conds.push(format!(
                        "a.search_tsv @@ to_tsquery('simple', {})",
                        sql.arg(tsq)
                    )),
                }
            } else {
                let fts: Vec<String> = terms.iter().map(|t| format!("\"{t}\"*")).collect();
                from = "assets_fts JOIN assets a ON a.seq = assets_fts.rowid".into();
                conds.push(format!("assets_fts MATCH {}", sql.arg(fts.join(" "))));
                key = "assets_fts.rowid";
            }
        }
        if let Some(tag) = &q.tag {
            from.push_str(" JOIN asset_tags t ON t.seq = a.seq");
            conds.push(format!("t.tag = {}", sql.arg(tag.clone())));
            if key == "a.seq" {
                key = "t.seq";
            }
        }
        // A sorted list walks its sort index and filters as it goes: on SQLite, whose
        // planner has no statistics, the broad filters (a sixth of the register or so)
        // are kept off their own indexes (`+col`), which would mean sorting all they match.
        let broad = if q.sort != AssetSort::Registered && !self.pg() {
            "+a."
        } else {
            "a."
        };
        if let Some(k) = q.kind {
            conds.push(format!("{broad}kind = {}", sql.arg(k.as_str())));
        }
        if let Some(s) = q.status {
            conds.push(format!("{broad}status = {}", sql.arg(s.as_str())));
        }
        if let Some(o) = q.owner_id {
            conds.push(format!("a.owner_id = {}", sql.arg(o)));
        }
        if let Some(c) = &q.classification {
            conds.push(format!("{broad}classification = {}", sql.arg(c.clone())));
        }
        if let Some(i) = q.importance {
            conds.push(format!("{broad}importance = {}", sql.arg(i.as_str())));
        }
        if let Some(l) = q.location_id {
            conds.push(format!("a.location_id = {}", sql.arg(l)));
        }
        if let Some(today) = q.review_overdue {
            conds.push(format!("a.next_review_at < {}", sql.arg(today)));
        }
        if let Some(w) = &q.within {
            conds.push(within(&mut sql, w, &["a.owner_id"], "a.id"));
        }
        if q.sort != AssetSort::Registered {
            return self.sorted_assets(sql, &from, conds, q, limit).await;
        }
        let listing = Listing {
            cols: ASSET_COLS,
            from: &from,
            key,
            conds,
            cursor: q.cursor,
            limit,
        };
        self.fetch_page(sql, listing, rows::asset).await
    }

    async fn count_assets(&self) -> Result<i64> {
        self.pools
            .fetch_one(Sql::new("SELECT COUNT(*) AS n FROM assets"))
            .await?
            .get("n")
    }

    async fn asset_counts(&self, today: chrono::NaiveDate) -> Result<custodian_store::AssetCounts> {
        let mut out = custodian_store::AssetCounts::default();
        for (col, into) in [
            ("kind", &mut out.by_kind),
            ("status", &mut out.by_status),
            ("classification", &mut out.by_classification),
        ] {
            let sql = Sql::new(format!(
                "SELECT {col} AS k, COUNT(*) AS n FROM assets GROUP BY {col} ORDER BY n DESC, k"
            ));
            for r in self.pools.fetch_all(sql).await? {
                into.push((r.get("k")?, r.get("n")?));
            }
        }
        out.total = out.by_kind.iter().map(|(_, n)| n).sum();
        let mut sql = Sql::new("");
        let cond = format!(
            "SELECT COUNT(*) AS n FROM assets WHERE next_review_at < {} AND status <> 'disposed'",
            sql.arg(today)
        );
        sql.push(&cond);
        out.overdue = self.pools.fetch_one(sql).await?.get("n")?;
        Ok(out)
    }

    async fn count_assets_owned_by(&self, owners: &[Uuid]) -> Result<i64> {
        let mut n = 0;
        for chunk in owners.chunks(400) {
            let mut sql = Sql::new("SELECT COUNT(*) AS n FROM assets WHERE owner_id IN ");
            sql.push_list(chunk.iter().copied());
            let c: i64 = self.pools.fetch_one(sql).await?.get("n")?;
            n += c;
        }
        Ok(n)
    }

    async fn relations_of(&self, ids: &[Uuid]) -> Result<Vec<Relation>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let mut sql = Sql::new(format!(
            "SELECT {} FROM relations WHERE from_id IN ",
            rows::RELATION_COLS
        ));
        sql.push_list(ids.iter().copied());
        sql.push(" UNION SELECT ");
        sql.push(rows::RELATION_COLS);
        sql.push(" FROM relations WHERE to_id IN ");
        sql.push_list(ids.iter().copied());
        self.pools
            .fetch_all(sql)
            .await?
            .iter()
            .map(rows::relation)
            .collect()
    }

    async fn relation(&self, id: Uuid) -> Result<Option<Relation>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM relations WHERE id = $1",
            rows::RELATION_COLS
        ))
        .bind(id);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| rows::relation(&r))
            .transpose()
    }

    async fn disposal(&self, asset_id: Uuid) -> Result<Option<DisposalRecord>> {
        let sql = Sql::new("SELECT asset_id, method, performed_by, performed_at, certificate_ref, verified_by, notes FROM disposals WHERE asset_id = $1").bind(asset_id);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| rows::disposal(&r))
            .transpose()
    }

    async fn incidents(&self, asset_id: Uuid) -> Result<Vec<IncidentReport>> {
        let sql = Sql::new("SELECT asset_id, status, reported_at, incident_ref, notes FROM incidents WHERE asset_id = $1 ORDER BY seq").bind(asset_id);
        self.pools
            .fetch_all(sql)
            .await?
            .iter()
            .map(rows::incident)
            .collect()
    }

    async fn party(&self, id: Uuid) -> Result<Option<Party>> {
        Ok(self.parties(&[id]).await?.into_iter().next())
    }

    async fn person_by_email(&self, email: &str) -> Result<Option<Party>> {
        let sql = Sql::new(format!(
            "SELECT {PARTY_COLS} FROM parties p WHERE p.email = $1 AND p.kind = 'person'"
        ))
        .bind(email.to_string());
        let Some(r) = self.pools.fetch_optional(sql).await? else {
            return Ok(None);
        };
        let mut found = vec![rows::party(&r)?.1];
        self.fill_members(&mut found).await?;
        Ok(found.pop())
    }

    async fn parties(&self, ids: &[Uuid]) -> Result<Vec<Party>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let mut out = Vec::new();
        for chunk in ids.chunks(400) {
            let mut sql = Sql::new(format!("SELECT {PARTY_COLS} FROM parties p WHERE p.id IN "));
            sql.push_list(chunk.iter().copied());
            for r in self.pools.fetch_all(sql).await? {
                out.push(rows::party(&r)?.1);
            }
        }
        self.fill_members(&mut out).await?;
        Ok(out)
    }

    async fn list_parties(&self, q: &PartyQuery) -> Result<Page<Party>> {
        let mut sql = Sql::new("");
        let mut conds = Vec::new();
        if let Some(k) = q.kind {
            conds.push(format!("p.kind = {}", sql.arg(k.as_str())));
        }
        if let Some(s) = q.status {
            conds.push(format!("p.status = {}", sql.arg(s.as_str())));
        }
        if let Some(text) = q.q.as_deref().filter(|t| !t.trim().is_empty()) {
            let pattern = format!("%{}%", text.trim().to_lowercase().replace(['%', '_'], ""));
            let p = sql.arg(pattern);
            conds.push(format!(
                "(lower(p.name) LIKE {p} OR lower(p.email) LIKE {p})"
            ));
        }
        if let Some(w) = &q.within {
            conds.push(within(&mut sql, w, &["p.id"], "p.id"));
        }
        let listing = Listing {
            cols: PARTY_COLS,
            from: "parties p",
            key: "p.seq",
            conds,
            cursor: q.cursor,
            limit: q.limit,
        };
        let mut pg = self.fetch_page(sql, listing, rows::party).await?;
        self.fill_members(&mut pg.items).await?;
        Ok(pg)
    }

    async fn party_directory(&self) -> Result<Vec<PartyRef>> {
        let rows = self
            .pools
            .fetch_all(Sql::new(
                "SELECT id, kind, name, email FROM parties ORDER BY seq",
            ))
            .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.get("kind")?;
                Ok(PartyRef {
                    id: r.get("id")?,
                    kind: PartyKind::parse(&kind)
                        .ok_or_else(|| StoreError::Other(format!("unknown party kind {kind:?}")))?,
                    name: r.get("name")?,
                    email: r.get("email")?,
                })
            })
            .collect()
    }

    async fn delegation(&self, id: Uuid) -> Result<Option<Delegation>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM delegations WHERE id = $1",
            rows::DELEGATION_COLS
        ))
        .bind(id);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| rows::delegation(&r).map(|(_, d)| d))
            .transpose()
    }

    async fn list_delegations(&self, q: &DelegationQuery) -> Result<Page<Delegation>> {
        let mut sql = Sql::new("");
        let mut conds = Vec::new();
        if let Some(o) = q.owner_id {
            conds.push(format!("owner_id = {}", sql.arg(o)));
        }
        if let Some(d) = q.delegate_id {
            conds.push(format!("delegate_id = {}", sql.arg(d)));
        }
        if q.active_only {
            conds.push("ended_at IS NULL".into());
        }
        if let Some(w) = &q.within {
            conds.push(within(&mut sql, w, &["owner_id", "delegate_id"], "id"));
        }
        let listing = Listing {
            cols: rows::DELEGATION_COLS,
            from: "delegations",
            key: "seq",
            conds,
            cursor: q.cursor,
            limit: q.limit,
        };
        self.fetch_page(sql, listing, rows::delegation).await
    }

    async fn location(&self, id: Uuid) -> Result<Option<Location>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM locations WHERE id = $1",
            rows::LOCATION_COLS
        ))
        .bind(id);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| rows::location(&r).map(|(_, l)| l))
            .transpose()
    }

    async fn list_locations(&self, limit: u32, cursor: Option<Cursor>) -> Result<Page<Location>> {
        let listing = Listing {
            cols: rows::LOCATION_COLS,
            from: "locations",
            key: "seq",
            conds: vec![],
            cursor,
            limit,
        };
        self.fetch_page(Sql::new(""), listing, rows::location).await
    }

    async fn classifications(&self) -> Result<Vec<Classification>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM classifications ORDER BY rank",
            rows::CLASSIFICATION_COLS
        ));
        self.pools
            .fetch_all(sql)
            .await?
            .iter()
            .map(rows::classification)
            .collect()
    }

    async fn classification_usage(&self, key: &str) -> Result<i64> {
        self.pools
            .fetch_one(
                Sql::new("SELECT COUNT(*) AS n FROM assets WHERE classification = $1").bind(key),
            )
            .await?
            .get("n")
    }

    async fn custom_fields(&self) -> Result<Vec<CustomFieldDef>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM custom_fields ORDER BY seq",
            rows::CUSTOM_FIELD_COLS
        ));
        self.pools
            .fetch_all(sql)
            .await?
            .iter()
            .map(rows::custom_field)
            .collect()
    }

    async fn history(
        &self,
        entity_type: &str,
        entity_id: &str,
        limit: u32,
        cursor: Option<Cursor>,
    ) -> Result<Page<Event>> {
        let limit = clamp(limit);
        let mut sql = Sql::new("");
        let (t, i) = (sql.arg(entity_type), sql.arg(entity_id));
        let after = match cursor {
            Some(c) => format!(" AND seq > {}", sql.arg(c.0)),
            None => String::new(),
        };
        sql.text = format!("SELECT {} FROM audit_events WHERE entity_type = {t} AND entity_id = {i}{after} ORDER BY seq LIMIT {}", rows::EVENT_COLS, limit + 1);
        let rows = self
            .pools
            .fetch_all(sql)
            .await?
            .iter()
            .map(|r| rows::event(r).map(|e| (e.seq, e)))
            .collect::<Result<Vec<_>>>()?;
        Ok(page(rows, limit))
    }

    async fn events_after(&self, seq: i64, limit: u32) -> Result<Vec<Event>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT {}",
            rows::EVENT_COLS,
            limit.max(1)
        ))
        .bind(seq);
        self.pools
            .fetch_all(sql)
            .await?
            .iter()
            .map(rows::event)
            .collect()
    }

    async fn audit_head(&self) -> Result<(i64, String)> {
        let r = self
            .pools
            .fetch_one(Sql::new("SELECT seq, hash FROM audit_head WHERE id = 1"))
            .await?;
        Ok((r.get("seq")?, r.get("hash")?))
    }

    async fn entity_events(
        &self,
        entity_type: &str,
        after: Option<(String, i64)>,
        limit: u32,
    ) -> Result<Vec<Event>> {
        let mut sql = Sql::new(format!(
            "SELECT {} FROM audit_events WHERE entity_type = $1",
            rows::EVENT_COLS
        ))
        .bind(entity_type.to_string());
        if let Some((id, seq)) = after {
            let (i, s) = (sql.arg(id), sql.arg(seq));
            // A row value, so that both databases seek the index rather than scan to it.
            sql.push(&format!(" AND (entity_id, seq) > ({i}, {s})"));
        }
        sql.push(&format!(" ORDER BY entity_id, seq LIMIT {}", limit.max(1)));
        self.pools
            .fetch_all(sql)
            .await?
            .iter()
            .map(rows::event)
            .collect()
    }

    async fn assets_by_id(&self, after: Option<Uuid>, limit: u32) -> Result<Vec<Asset>> {
        let mut sql = Sql::new(format!("SELECT {ASSET_COLS} FROM assets a"));
        if let Some(id) = after {
            let i = sql.arg(id);
            sql.push(&format!(" WHERE a.id > {i}"));
        }
        sql.push(&format!(" ORDER BY a.id LIMIT {}", limit.max(1)));
        self.fetch_assets(sql).await
    }

    async fn sealed_head(&self) -> Result<custodian_store::SealedHead> {
        chain::sealed_head(&self.pools).await
    }

    async fn checkpoints_after(
        &self,
        seq: i64,
        limit: u32,
    ) -> Result<Vec<(i64, custodian_domain::audit::Seal)>> {
        chain::checkpoints_after(&self.pools, seq, limit).await
    }

    async fn use_chain_key(&self, key: custodian_domain::audit::ChainKey) -> Result<()> {
        chain::use_key(&self.pools, &self.chain, key).await
    }

    async fn claim_job(
        &self,
        name: &str,
        due_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        jobs::claim(&self.pools, name, due_before, now).await
    }

    async fn finish_job(&self, name: &str, at: DateTime<Utc>, outcome: &str) -> Result<()> {
        jobs::finish(&self.pools, name, at, outcome).await
    }

    async fn job_runs(&self) -> Result<Vec<custodian_store::JobRun>> {
        jobs::runs(&self.pools).await
    }

    async fn purge_setup_links(&self, now: DateTime<Utc>) -> Result<u64> {
        jobs::purge_setup_links(&self.pools, now).await
    }

    async fn seal_unsealed_chain(
        &self,
        key: &custodian_domain::audit::ChainKey,
    ) -> Result<custodian_store::SealedHead> {
        chain::seal_first(&self.pools, key).await
    }

    async fn user(&self, id: Uuid) -> Result<Option<User>> {
        self.one_user("id", id.into()).await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        self.one_user("email", email.to_lowercase().into()).await
    }

    async fn user_by_oidc_subject(&self, subject: &str) -> Result<Option<User>> {
        self.one_user("oidc_subject", subject.into()).await
    }

    async fn list_users(&self, limit: u32, cursor: Option<Cursor>) -> Result<Page<User>> {
        let listing = Listing {
            cols: rows::USER_COLS,
            from: "users",
            key: "seq",
            conds: vec![],
            cursor,
            limit,
        };
        self.fetch_page(Sql::new(""), listing, rows::user).await
    }

    async fn count_users(&self) -> Result<i64> {
        self.pools
            .fetch_one(Sql::new("SELECT COUNT(*) AS n FROM users"))
            .await?
            .get("n")
    }

    async fn session(&self, id_hash: &str) -> Result<Option<Session>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM sessions WHERE id_hash = $1",
            rows::SESSION_COLS
        ))
        .bind(id_hash);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| rows::session(&r))
            .transpose()
    }

    async fn touch_session(&self, id_hash: &str, at: DateTime<Utc>) -> Result<()> {
        self.bookkeeping(
            Sql::new("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
                .bind(at)
                .bind(id_hash),
        )
        .await
        .map(drop)
    }

    async fn purge_sessions(
        &self,
        idle_before: DateTime<Utc>,
        started_before: DateTime<Utc>,
    ) -> Result<u64> {
        self.bookkeeping(
            Sql::new("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
                .bind(idle_before)
                .bind(started_before),
        )
        .await
    }

    async fn token(&self, id: Uuid) -> Result<Option<ApiToken>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM api_tokens WHERE id = $1",
            rows::TOKEN_COLS
        ))
        .bind(id);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| rows::token(&r))
            .transpose()
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM api_tokens WHERE token_hash = $1",
            rows::TOKEN_COLS
        ))
        .bind(hash);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| rows::token(&r))
            .transpose()
    }

    async fn tokens(&self, user_id: Option<Uuid>) -> Result<Vec<ApiToken>> {
        let mut sql = Sql::new(format!("SELECT {} FROM api_tokens", rows::TOKEN_COLS));
        if let Some(u) = user_id {
            let p = sql.arg(u);
            sql.push(&format!(" WHERE user_id = {p}"));
        }
        sql.push(" ORDER BY seq DESC");
        self.pools
            .fetch_all(sql)
            .await?
            .iter()
            .map(rows::token)
            .collect()
    }

    async fn touch_token(&self, id: Uuid, at: DateTime<Utc>) -> Result<()> {
        self.bookkeeping(
            Sql::new("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(at)
                .bind(id),
        )
        .await
        .map(drop)
    }

    async fn setting(&self, key: &str) -> Result<Option<String>> {
        let sql = Sql::new("SELECT value FROM settings WHERE key = $1").bind(key);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| r.get("value"))
            .transpose()
    }

    async fn memberships(&self, person_id: Uuid) -> Result<Vec<Uuid>> {
        let sql = Sql::new(
            "SELECT team_id AS id FROM team_members WHERE person_id = $1 \
             UNION SELECT id FROM parties WHERE kind = 'role' AND holder_id = $1",
        )
        .bind(person_id);
        self.pools
            .fetch_all(sql)
            .await?
            .iter()
            .map(|r| r.get("id"))
            .collect()
    }
    async fn policy(&self, id: Uuid) -> Result<Option<PolicyVersion>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM policies WHERE id = $1",
            rows::POLICY_COLS
        ))
        .bind(id);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| rows::policy(&r).map(|(_, p)| p))
            .transpose()
    }

    async fn policies(&self, document: Option<PolicyDocument>) -> Result<Vec<PolicyVersion>> {
        let mut sql = Sql::new(format!("SELECT {} FROM policies", rows::POLICY_COLS));
        if let Some(d) = document {
            let a = sql.arg(d.as_str());
            sql.push(&format!(" WHERE document = {a}"));
        }
        sql.push(" ORDER BY seq");
        self.pools
            .fetch_all(sql)
            .await?
            .iter()
            .map(|r| rows::policy(r).map(|(_, p)| p))
            .collect()
    }

    async fn list_acknowledgements(
        &self,
        q: &AcknowledgementQuery,
    ) -> Result<Page<Acknowledgement>> {
        let mut sql = Sql::new("");
        let mut conds = Vec::new();
        if !q.policy_ids.is_empty() {
            conds.push(format!("policy_id IN {}", sql.list(q.policy_ids.clone())));
        }
        if let Some(p) = q.person_id {
            conds.push(format!("person_id = {}", sql.arg(p)));
        }
        let listing = Listing {
            cols: rows::ACK_COLS,
            from: "acknowledgements",
            key: "seq",
            conds,
            cursor: q.cursor,
            limit: q.limit,
        };
        self.fetch_page(sql, listing, rows::acknowledgement).await
    }

    async fn acknowledgement_counts(&self, policy_ids: &[Uuid]) -> Result<(i64, i64)> {
        let mut sql = Sql::new("");
        let acked = if policy_ids.is_empty() {
            "FALSE".to_string()
        } else {
            format!(
                "EXISTS (SELECT 1 FROM acknowledgements k WHERE k.person_id = p.id AND k.policy_id IN {})",
                sql.list(policy_ids.to_vec())
            )
        };
        sql.text = format!(
            "SELECT COALESCE(SUM(CASE WHEN {acked} THEN 1 ELSE 0 END), 0) AS done, COUNT(*) AS total \
             FROM parties p WHERE p.kind = 'person' AND p.status <> 'left'"
        );
        let r = self.pools.fetch_one(sql).await?;
        let (done, total): (i64, i64) = (r.get("done")?, r.get("total")?);
        Ok((done, total - done))
    }

    async fn persons_without_acknowledgement(
        &self,
        policy_ids: &[Uuid],
        limit: u32,
    ) -> Result<Vec<Party>> {
        let mut sql = Sql::new("");
        let missing = if policy_ids.is_empty() {
            String::new()
        } else {
            format!(
                " AND NOT EXISTS (SELECT 1 FROM acknowledgements k WHERE k.person_id = p.id AND k.policy_id IN {})",
                sql.list(policy_ids.to_vec())
            )
        };
        sql.text = format!(
            "SELECT {PARTY_COLS} FROM parties p WHERE p.kind = 'person' AND p.status <> 'left'{missing} \
             ORDER BY p.name, p.seq LIMIT {}",
            clamp(limit)
        );
        self.pools
            .fetch_all(sql)
            .await?
            .iter()
            .map(|r| rows::party(r).map(|(_, p)| p))
            .collect()
    }

    async fn assignment(&self, id: Uuid) -> Result<Option<Assignment>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM assignments WHERE id = $1",
            rows::ASSIGNMENT_COLS
        ))
        .bind(id);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| rows::assignment(&r).map(|(_, a)| a))
            .transpose()
    }

    async fn list_assignments(&self, q: &AssignmentQuery) -> Result<Page<Assignment>> {
        let mut sql = Sql::new("");
        let mut conds = Vec::new();
        if let Some(a) = q.asset_id {
            conds.push(format!("asset_id = {}", sql.arg(a)));
        }
        if let Some(p) = q.person_id {
            conds.push(format!("person_id = {}", sql.arg(p)));
        }
        if let Some(h) = q.host_id {
            conds.push(format!("host_id = {}", sql.arg(h)));
        }
        if let Some(k) = q.kind {
            conds.push(format!("kind = {}", sql.arg(k.as_str())));
        }
        match q.open {
            Some(true) => conds.push("returned_at IS NULL".into()),
            Some(false) => conds.push("returned_at IS NOT NULL".into()),
            None => {}
        }
        if let Some(off) = q.off_premises {
            conds.push(format!("off_premises = {}", sql.arg(off)));
        }
        self.fetch_directed(
            sql,
            rows::ASSIGNMENT_COLS,
            "assignments",
            conds,
            q.cursor,
            q.limit,
            q.newest_first,
            rows::assignment,
        )
        .await
    }

    async fn count_open_assignments(&self, asset_id: Uuid) -> Result<i64> {
        let sql = Sql::new(
            "SELECT COUNT(*) AS n FROM assignments WHERE asset_id = $1 AND returned_at IS NULL",
        )
        .bind(asset_id);
        self.pools.fetch_one(sql).await?.get("n")
    }

    async fn exception(&self, id: Uuid) -> Result<Option<PolicyException>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM exceptions WHERE id = $1",
            rows::EXCEPTION_COLS
        ))
        .bind(id);
        let Some(r) = self.pools.fetch_optional(sql).await? else {
            return Ok(None);
        };
        let mut x = vec![rows::exception(&r)?.1];
        self.fill_exception_assets(&mut x).await?;
        Ok(x.pop())
    }

    async fn offboarding(&self, id: Uuid) -> Result<Option<Offboarding>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM offboardings WHERE id = $1",
            rows::OFFBOARDING_COLS
        ))
        .bind(id);
        let Some(r) = self.pools.fetch_optional(sql).await? else {
            return Ok(None);
        };
        let mut c = vec![rows::offboarding(&r)?.1];
        self.fill_items(&mut c).await?;
        Ok(c.pop())
    }

    async fn list_offboardings(&self, q: &OffboardingQuery) -> Result<Page<Offboarding>> {
        let mut sql = Sql::new("");
        let mut conds = Vec::new();
        if let Some(p) = q.person_id {
            conds.push(format!("person_id = {}", sql.arg(p)));
        }
        if let Some(st) = q.status {
            conds.push(format!("status = {}", sql.arg(st.as_str())));
        }
        if let Some(k) = q.kind {
            conds.push(format!("kind = {}", sql.arg(k.as_str())));
        }
        let mut page = self
            .fetch_directed(
                sql,
                rows::OFFBOARDING_COLS,
                "offboardings",
                conds,
                q.cursor,
                q.limit,
                q.newest_first,
                rows::offboarding,
            )
            .await?;
        self.fill_items(&mut page.items).await?;
        Ok(page)
    }

    async fn attestation(&self, id: Uuid) -> Result<Option<Attestation>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM attestations WHERE id = $1",
            rows::ATTESTATION_COLS
        ))
        .bind(id);
        let Some(r) = self.pools.fetch_optional(sql).await? else {
            return Ok(None);
        };
        let mut c = vec![rows::attestation(&r)?.1];
        self.fill_owners(&mut c).await?;
        Ok(c.pop())
    }

    async fn list_attestations(
        &self,
        status: Option<AttestationStatus>,
        limit: u32,
        cursor: Option<Cursor>,
    ) -> Result<Page<Attestation>> {
        let mut sql = Sql::new("");
        let mut conds = Vec::new();
        if let Some(st) = status {
            conds.push(format!("status = {}", sql.arg(st.as_str())));
        }
        let mut page = self
            .fetch_directed(
                sql,
                rows::ATTESTATION_COLS,
                "attestations",
                conds,
                cursor,
                limit,
                true,
                rows::attestation,
            )
            .await?;
        self.fill_owners(&mut page.items).await?;
        Ok(page)
    }

    async fn asset_owner_counts(&self) -> Result<Vec<(Uuid, i64)>> {
        let sql = Sql::new(
            "SELECT owner_id, COUNT(*) AS n FROM assets WHERE status <> 'disposed' \
             GROUP BY owner_id ORDER BY owner_id",
        );
        self.pools
            .fetch_all(sql)
            .await?
            .iter()
            .map(|r| Ok((r.get("owner_id")?, r.get("n")?)))
            .collect()
    }

    async fn list_exceptions(&self, q: &ExceptionQuery) -> Result<Page<PolicyException>> {
        let mut sql = Sql::new("");
        let mut conds = Vec::new();
        if let Some(a) = q.asset_id {
            conds.push(format!(
                "id IN (SELECT exception_id FROM exception_assets WHERE asset_id = {})",
                sql.arg(a)
            ));
        }
        if let Some(r) = q.rule {
            conds.push(format!("rule = {}", sql.arg(r.as_str())));
        }
        if let Some(st) = q.status {
            conds.push(format!("status = {}", sql.arg(st.as_str())));
        }
        if let Some(r) = q.requester_id {
            conds.push(format!("requester_id = {}", sql.arg(r)));
        }
        let mut page = self
            .fetch_directed(
                sql,
                rows::EXCEPTION_COLS,
                "exceptions",
                conds,
                q.cursor,
                q.limit,
                q.newest_first,
                rows::exception,
            )
            .await?;
        self.fill_exception_assets(&mut page.items).await?;
        Ok(page)
    }

    async fn assets_by_number_nocase(&self, number: &str) -> Result<Vec<Asset>> {
        self.assets_by_number_nocase_sql(number).await
    }

    async fn location_subtree(&self, root: Uuid) -> Result<Vec<Uuid>> {
        self.location_subtree_sql(root).await
    }

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

impl SqlStore {
    async fn fill_items(&self, cases: &mut [Offboarding]) -> Result<()> {
        if cases.is_empty() {
            return Ok(());
        }
        let mut sql = Sql::new(format!(
            "SELECT {} FROM offboarding_items WHERE offboarding_id IN ",
            rows::ITEM_COLS
        ));
        sql.push_list(cases.iter().map(|c| c.id).collect::<Vec<_>>());
        sql.push(" ORDER BY offboarding_id, position");
        for r in self.pools.fetch_all(sql).await? {
            let (case, item) = rows::item(&r)?;
            if let Some(c) = cases.iter_mut().find(|c| c.id == case) {
                c.items.push(item);
            }
        }
        Ok(())
    }

    async fn fill_owners(&self, campaigns: &mut [Attestation]) -> Result<()> {
        if campaigns.is_empty() {
            return Ok(());
        }
        let mut sql = Sql::new(format!(
            "SELECT {} FROM attestation_owners WHERE attestation_id IN ",
            rows::ATTESTATION_OWNER_COLS
        ));
        sql.push_list(campaigns.iter().map(|c| c.id).collect::<Vec<_>>());
        sql.push(" ORDER BY attestation_id, position");
        for r in self.pools.fetch_all(sql).await? {
            let (campaign, owner) = rows::attestation_owner(&r)?;
            if let Some(c) = campaigns.iter_mut().find(|c| c.id == campaign) {
                c.owners.push(owner);
            }
        }
        Ok(())
    }

    /// A listing keyed on `seq`, oldest or newest first.
    #[allow(clippy::too_many_arguments)]
    async fn fetch_directed<T>(
        &self,
        mut sql: Sql,
        cols: &str,
        from: &str,
        mut conds: Vec<String>,
        cursor: Option<Cursor>,
        limit: u32,
        newest_first: bool,
        map: fn(&Row) -> Result<(i64, T)>,
    ) -> Result<Page<T>> {
        let (op, order) = if newest_first {
            ("<", "seq DESC")
        } else {
            (">", "seq")
        };
        if let Some(c) = cursor {
            conds.push(format!("seq {op} {}", sql.arg(c.0)));
        }
        self.fetch_ordered(sql, cols, from, conds, order, clamp(limit), map)
            .await
    }

    async fn fill_exception_assets(&self, xs: &mut [PolicyException]) -> Result<()> {
        if xs.is_empty() {
            return Ok(());
        }
        let mut sql =
            Sql::new("SELECT exception_id, asset_id FROM exception_assets WHERE exception_id IN ");
        sql.push_list(xs.iter().map(|x| x.id).collect::<Vec<_>>());
        sql.push(" ORDER BY exception_id, position");
        for r in self.pools.fetch_all(sql).await? {
            let (x, a): (Uuid, Uuid) = (r.get("exception_id")?, r.get("asset_id")?);
            if let Some(e) = xs.iter_mut().find(|e| e.id == x) {
                e.asset_ids.push(a);
            }
        }
        Ok(())
    }
}

impl SqlStore {
    async fn one_user(&self, col: &str, key: db::Arg) -> Result<Option<User>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM users WHERE {col} = $1",
            rows::USER_COLS
        ))
        .bind(key);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| rows::user(&r).map(|(_, u)| u))
            .transpose()
    }

    /// A write that is bookkeeping, not a change of record (when a session or token was
    /// last used; removing expired sessions): it has no audit event.
    async fn bookkeeping(&self, sql: Sql) -> Result<u64> {
        let mut tx = self.pools.begin().await?;
        let n = tx.execute(sql).await?;
        tx.commit().await?;
        Ok(n)
    }
}

/// The condition that keeps a list within what a caller may see: a party column names one
/// of `w.parties`, or the record is one of `w.ids`.
fn within(sql: &mut Sql, w: &custodian_store::Within, party_cols: &[&str], id_col: &str) -> String {
    let mut parts = Vec::new();
    if !w.parties.is_empty() {
        let ps: Vec<String> = w.parties.iter().map(|p| sql.arg(*p)).collect();
        let list = ps.join(", ");
        for c in party_cols {
            parts.push(format!("{c} IN ({list})"));
        }
    }
    if !w.ids.is_empty() {
        let ps: Vec<String> = w.ids.iter().map(|p| sql.arg(*p)).collect();
        parts.push(format!("{id_col} IN ({})", ps.join(", ")));
    }
    if parts.is_empty() {
        "1 = 0".into()
    } else {
        format!("({})", parts.join(" OR "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls() {
        assert_eq!(
            Target::parse("custodian.db"),
            Ok(Target::Sqlite("custodian.db".into()))
        );
        assert_eq!(
            Target::parse("sqlite://data/c.db"),
            Ok(Target::Sqlite("data/c.db".into()))
        );
        assert_eq!(
            Target::parse("sqlite:c.db?mode=rwc"),
            Ok(Target::Sqlite("c.db".into()))
        );
        assert!(matches!(
            Target::parse("postgres://u@h/db"),
            Ok(Target::Postgres(_))
        ));
        assert!(Target::parse("mysql://x").is_err());
        assert!(Target::parse(":memory:").is_err());
        assert!(Target::parse("").is_err());
    }

    #[test]
    fn search_terms_are_words() {
        assert_eq!(search_terms("Dell  lat-5440"), vec!["dell", "lat", "5440"]);
        assert!(search_terms("--").is_empty());
    }
}
