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
use custodian_domain::account::User;
use custodian_domain::asset::Asset;
use custodian_domain::exception::PolicyException;
use custodian_domain::party::{Party, PartyKind};
use custodian_store::{
    AcknowledgementQuery, AssetQuery, AssetSort, AssignmentQuery, Cursor, DelegationQuery,
    ExceptionQuery, OffboardingQuery, Page, PartyQuery, PartyRef, Result, Store, StoreError, Tx,
};

mod accounts;
mod assets;
mod attestation;
mod audit;
mod bulk;
mod chain;
mod compliance;
mod custody;
mod db;
mod exceptions;
mod jobs;
mod offboarding;
mod parties;
mod policies;
mod reference;
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
    Migration {
        version: 10,
        name: "compliance measurement",
        sqlite: include_str!("schema/sqlite_010.sql"),
        postgres: include_str!("schema/postgres_010.sql"),
    },
    Migration {
        version: 11,
        name: "policy renderings",
        sqlite: include_str!("schema/sqlite_011.sql"),
        postgres: include_str!("schema/postgres_011.sql"),
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
            .fetch_rows(sql, |r| rows::asset(r).map(|(_, a)| a))
            .await
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
        let rows = self.pools.fetch_rows(sql, map).await?;
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
    async fn begin(&self) -> Result<Box<dyn Tx>> {
        Ok(Box::new(tx::SqlTx::new(
            self.pools.begin().await?,
            self.pools.clone(),
            self.chain.clone(),
        )))
    }
}

impl SqlStore {
    /// Reads the child rows of `parents` in one query (`select` names the table and ends
    /// with `{parent column} IN `, ordered by parent and position) and hands each to its
    /// parent's list.
    async fn fill_children<P, C>(
        &self,
        parents: &mut [P],
        select: &str,
        order: &str,
        row: fn(&Row) -> Result<(Uuid, C)>,
        list: fn(&mut P) -> (Uuid, &mut Vec<C>),
    ) -> Result<()> {
        if parents.is_empty() {
            return Ok(());
        }
        let mut sql = Sql::new(select.to_string());
        sql.push_list(parents.iter_mut().map(|p| list(p).0).collect::<Vec<_>>());
        sql.push(order);
        for r in self.pools.fetch_all(sql).await? {
            let (parent, child) = row(&r)?;
            if let Some((_, children)) = parents.iter_mut().map(list).find(|(id, _)| *id == parent)
            {
                children.push(child);
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
