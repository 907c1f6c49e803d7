//! Write transactions: applying change sets and appending to the audit chain.

use async_trait::async_trait;

use std::collections::HashMap;
use uuid::Uuid;

use custodian_domain::asset::{format_asset_number, Asset};
use custodian_domain::audit::NewEvent;
use custodian_store::{AssetWrite, ChangeSet, MatchKey, Result, StoreError, Tx, Write};

use custodian_domain::audit::ChainKey;

use crate::chain::{self, ChainRef, Tip};
use crate::db::{Arg, Dialect, Pools, Sql, TxConn};
use crate::rows::{self, ASSET_COLS};

/// Rows per multi-row INSERT: stays below SQLite's 32,766 and PostgreSQL's 65,535 parameters.
const BATCH: usize = 400;

/// The query finding assets whose match key has one of `values` (`None`: nothing to find).
fn find_assets_sql(key: MatchKey, chunk: &[String]) -> Option<Sql> {
    let mut sql = Sql::new(format!("SELECT {ASSET_COLS} FROM assets a"));
    match key {
        MatchKey::AssetNumber => {
            sql.push(" WHERE a.asset_number IN ");
            sql.push_list(chunk.iter().cloned());
        }
        MatchKey::SerialNumber => {
            sql.push(" WHERE a.serial_number IN ");
            sql.push_list(chunk.iter().cloned());
        }
        MatchKey::Id => {
            let ids: Vec<Uuid> = chunk
                .iter()
                .filter_map(|s| Uuid::parse_str(s).ok())
                .collect();
            if ids.is_empty() {
                return None;
            }
            sql.push(" WHERE a.id IN ");
            sql.push_list(ids);
        }
        MatchKey::ExternalId => {
            let mut conds = Vec::new();
            for v in chunk {
                if let Some((system, value)) = v.split_once(':') {
                    let (s, v) = (sql.arg(system), sql.arg(value));
                    conds.push(format!("(e.system = {s} AND e.value = {v})"));
                }
            }
            if conds.is_empty() {
                return None;
            }
            sql.push(&format!(
                " WHERE a.id IN (SELECT e.asset_id FROM asset_external_ids e WHERE {})",
                conds.join(" OR ")
            ));
        }
    }
    Some(sql)
}

/// Finds assets by match key, as committed.
pub(crate) async fn find_assets(
    pools: &Pools,
    key: MatchKey,
    values: &[String],
) -> Result<Vec<Asset>> {
    let mut out = Vec::new();
    for chunk in values.chunks(BATCH / 2) {
        if let Some(sql) = find_assets_sql(key, chunk) {
            for r in pools.fetch_all(sql).await? {
                out.push(rows::asset(&r)?.1);
            }
        }
    }
    Ok(out)
}

/// The SQLite page cache of a bulk transaction, in KiB.
const BULK_CACHE_KIB: i64 = 256 * 1024;

/// After a bulk transaction: SQLite gives the bulk cache back; PostgreSQL refreshes the
/// planner's statistics, which would otherwise describe the tables as they were before.
async fn end_bulk(pools: &Pools, bulk: bool) -> Result<()> {
    if !bulk {
        return Ok(());
    }
    match pools.dialect() {
        Dialect::Sqlite => {
            let kib = crate::WRITER_CACHE_KIB;
            pools
                .write_raw(&format!(
                    "PRAGMA cache_size = -{kib}; PRAGMA shrink_memory;"
                ))
                .await
        }
        Dialect::Postgres => {
            pools
                .write_raw("ANALYZE assets, asset_tags, asset_external_ids, audit_events")
                .await
        }
    }
}

pub struct SqlTx {
    pub(crate) conn: TxConn,
    pools: Pools,
    /// The chain head as of the last append in this transaction.
    head: Option<Tip>,
    /// Whether the cache was enlarged for a bulk transaction.
    bulk: bool,
    /// Statements that build again, at commit, the indexes dropped for a bulk load.
    deferred: Vec<String>,
    /// The store's sealing state.
    chain: ChainRef,
    /// The key this transaction seals with.
    key: Option<ChainKey>,
    /// The last checkpoint, once the head is locked.
    checkpoint: i64,
}

impl SqlTx {
    pub(crate) fn new(conn: TxConn, pools: Pools, chain: ChainRef) -> Self {
        let key = chain.key();
        Self {
            conn,
            pools,
            head: None,
            bulk: false,
            deferred: Vec::new(),
            chain,
            key,
            checkpoint: 0,
        }
    }

    pub(crate) fn pg(&self) -> bool {
        self.conn.dialect() == Dialect::Postgres
    }

    /// How batch inserts begin. In a SQLite bulk transaction, `OR FAIL` with foreign keys
    /// checked at commit lets SQLite skip the statement journal (and FTS5 its flush at every
    /// statement): a failed statement need not be undone on its own, because the whole
    /// transaction is then rolled back.
    pub(crate) fn insert_verb(&self) -> &'static str {
        if self.bulk && !self.pg() {
            "INSERT OR FAIL INTO"
        } else {
            "INSERT INTO"
        }
    }

    /// Prepares the transaction for a great many rows.
    pub(crate) async fn make_bulk(&mut self) -> Result<()> {
        self.bulk = true;
        if !self.pg() {
            self.conn
                .execute(Sql::new("PRAGMA defer_foreign_keys = ON"))
                .await?;
            // Keep the pages a long transaction dirties in memory: once the cache spills,
            // SQLite writes a page to the WAL again each time it is changed again.
            self.conn
                .execute(Sql::new(format!("PRAGMA cache_size = -{BULK_CACHE_KIB}")))
                .await?;
            self.defer_indexes().await?;
        }
        Ok(())
    }

    /// Loading into an empty register, SQLite builds a secondary index far faster by sorting
    /// once at the end than by inserting each row into it. So those indexes are dropped here
    /// and built again, from their own stored definitions, just before commit; a rollback
    /// restores them with everything else. Readers keep their snapshot, indexes included.
    /// The full-text index is filled the same way, in one pass over the loaded rows.
    /// Unique indexes stay (they enforce constraints) and so does the serial-number index
    /// (`--match serial_number` looks rows up while loading). PostgreSQL keeps its indexes:
    /// dropping one there would lock readers out of the table for the whole import.
    async fn defer_indexes(&mut self) -> Result<()> {
        let any = self
            .conn
            .fetch_one(Sql::new("SELECT EXISTS (SELECT 1 FROM assets) AS any"))
            .await?
            .get::<i64>("any")?;
        if any != 0 {
            return Ok(());
        }
        let rows = self
            .conn
            .fetch_all(Sql::new(
                "SELECT name, sql FROM sqlite_master \
                 WHERE type = 'index' AND sql IS NOT NULL \
                   AND tbl_name IN ('assets', 'asset_tags', 'audit_events') \
                   AND name <> 'assets_serial' AND sql NOT LIKE 'CREATE UNIQUE%' \
                 ORDER BY name",
            ))
            .await?;
        for r in rows {
            let name: String = r.get("name")?;
            let create: String = r.get("sql")?;
            self.conn
                .execute(Sql::new(format!("DROP INDEX \"{name}\"")))
                .await?;
            self.deferred.push(create);
        }
        let trigger: String = self
            .conn
            .fetch_one(Sql::new(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'assets_fts_insert'",
            ))
            .await?
            .get("sql")?;
        self.conn
            .execute(Sql::new("DROP TRIGGER assets_fts_insert"))
            .await?;
        self.deferred.push(trigger);
        self.deferred
            .push("INSERT INTO assets_fts (assets_fts) VALUES ('rebuild')".into());
        Ok(())
    }

    /// Locks and reads the chain head, and checks its seal. On PostgreSQL the row lock
    /// serialises writers until commit, so sequence order is commit order; SQLite's single
    /// writer does the same.
    pub(crate) async fn head(&mut self) -> Result<Tip> {
        if let Some(h) = &self.head {
            return Ok(h.clone());
        }
        let locked = chain::lock_head(&mut self.conn, &self.chain, self.key.as_ref()).await?;
        self.checkpoint = locked.checkpoint;
        self.head = Some(locked.tip.clone());
        Ok(locked.tip)
    }

    pub(crate) async fn insert_assets(&mut self, assets: &[Asset]) -> Result<()> {
        for chunk in assets.chunks(BATCH) {
            let sql = assets_sql(self.insert_verb(), chunk);
            self.insert_asset_chunk(chunk, sql).await?;
        }
        Ok(())
    }

    /// Runs one chunk's insert (built by [`assets_sql`]) and adds its side rows.
    pub(crate) async fn insert_asset_chunk(&mut self, chunk: &[Asset], sql: Sql) -> Result<()> {
        let seqs: HashMap<Uuid, i64> = self
            .conn
            .fetch_all(sql)
            .await?
            .iter()
            .map(|r| Ok((r.get::<Uuid>("id")?, r.get::<i64>("seq")?)))
            .collect::<Result<_>>()?;
        self.insert_side_rows(chunk, &seqs).await
    }

    /// Tags and external ids live in their own indexed tables.
    pub(crate) async fn insert_side_rows(
        &mut self,
        assets: &[Asset],
        seqs: &HashMap<Uuid, i64>,
    ) -> Result<()> {
        let tags: Vec<(String, Uuid, i64)> = assets
            .iter()
            .flat_map(|a| {
                let seq = seqs.get(&a.id).copied().unwrap_or_default();
                a.tags.iter().map(move |t| (t.clone(), a.id, seq))
            })
            .collect();
        for chunk in tags.chunks(BATCH) {
            let mut sql = Sql::new("");
            let tuples: Vec<String> = chunk
                .iter()
                .map(|(t, id, seq)| {
                    format!(
                        "({}, {}, {})",
                        sql.arg(t.clone()),
                        sql.arg(*id),
                        sql.arg(*seq)
                    )
                })
                .collect();
            sql.text = format!(
                "{} asset_tags (tag, asset_id, seq) VALUES {}",
                self.insert_verb(),
                tuples.join(", ")
            );
            self.conn.execute(sql).await?;
        }
        let ext: Vec<(String, String, Uuid)> = assets
            .iter()
            .flat_map(|a| {
                a.external_ids.iter().map(move |(k, v)| {
                    (k.clone(), v.as_str().unwrap_or_default().to_string(), a.id)
                })
            })
            .collect();
        for chunk in ext.chunks(BATCH) {
            let mut sql = Sql::new("");
            let tuples: Vec<String> = chunk
                .iter()
                .map(|(s, v, id)| {
                    format!(
                        "({}, {}, {})",
                        sql.arg(s.clone()),
                        sql.arg(v.clone()),
                        sql.arg(*id)
                    )
                })
                .collect();
            sql.text = format!(
                "{} asset_external_ids (system, value, asset_id) VALUES {}",
                self.insert_verb(),
                tuples.join(", ")
            );
            self.conn.execute(sql).await?;
        }
        Ok(())
    }

    pub(crate) async fn update_asset(&mut self, a: &Asset, expected_version: i64) -> Result<()> {
        let mut sql = rows::update_versioned(
            "assets",
            "id",
            a.id.into(),
            rows::asset_values(a),
            expected_version,
        );
        sql.text.push_str(" RETURNING seq");
        let Some(row) = self.conn.fetch_all(sql).await?.into_iter().next() else {
            return Err(self
                .missing_or_stale(
                    "assets",
                    "asset",
                    a.id.into(),
                    a.id.to_string(),
                    expected_version,
                )
                .await);
        };
        let seq: i64 = row.get("seq")?;
        self.conn
            .execute(Sql::new("DELETE FROM asset_tags WHERE asset_id = $1").bind(a.id))
            .await?;
        self.conn
            .execute(Sql::new("DELETE FROM asset_external_ids WHERE asset_id = $1").bind(a.id))
            .await?;
        self.insert_side_rows(std::slice::from_ref(a), &HashMap::from([(a.id, seq)]))
            .await
    }

    pub(crate) async fn insert_row(
        &mut self,
        table: &str,
        values: Vec<(&'static str, crate::db::Arg)>,
    ) -> Result<()> {
        self.conn
            .execute(rows::insert(table, values))
            .await
            .map(drop)
    }

    /// Replaces the row with this id if its version is still `expected`.
    pub(crate) async fn update_row(
        &mut self,
        table: &str,
        entity: &'static str,
        id: Uuid,
        values: Vec<(&'static str, crate::db::Arg)>,
        expected: i64,
    ) -> Result<()> {
        let n = self
            .conn
            .execute(rows::update_versioned(
                table,
                "id",
                id.into(),
                values,
                expected,
            ))
            .await?;
        if n == 0 {
            return Err(self
                .missing_or_stale(table, entity, id.into(), id.to_string(), expected)
                .await);
        }
        Ok(())
    }

    pub(crate) async fn missing_or_stale(
        &mut self,
        table: &str,
        entity: &'static str,
        key: Arg,
        id: String,
        expected: i64,
    ) -> StoreError {
        let key_col = if table == "classifications" {
            "key"
        } else {
            "id"
        };
        let sql = Sql::new(format!("SELECT version FROM {table} WHERE {key_col} = $1")).bind(key);
        match self.conn.fetch_all(sql).await {
            Ok(rows) if rows.is_empty() => StoreError::NotFound { entity, id },
            Ok(_) => StoreError::Stale {
                entity,
                id,
                expected,
            },
            Err(e) => e,
        }
    }

    pub(crate) async fn set_members(&mut self, team: Uuid, members: &[Uuid]) -> Result<()> {
        self.conn
            .execute(Sql::new("DELETE FROM team_members WHERE team_id = $1").bind(team))
            .await?;
        for (i, m) in members.iter().enumerate() {
            self.conn
                .execute(Sql::new("INSERT INTO team_members (team_id, person_id, position) VALUES ($1, $2, $3)").bind(team).bind(*m).bind(i as i64))
                .await?;
        }
        Ok(())
    }

    async fn write(&mut self, w: Write) -> Result<()> {
        match w {
            Write::Asset(w) => self.write_assets(w).await,
            Write::Party(w) => self.write_parties(w).await,
            Write::Reference(w) => self.write_reference(w).await,
            Write::Account(w) => self.write_accounts(w).await,
            Write::Policy(w) => self.write_policies(w).await,
            Write::Custody(w) => self.write_custody(w).await,
            Write::Exception(w) => self.write_exceptions(w).await,
            Write::Offboarding(w) => self.write_offboarding(w).await,
            Write::Attestation(w) => self.write_attestation(w).await,
            Write::Stocktake(w) => self.write_stocktakes(w).await,
        }
    }

    async fn append(&mut self, events: Vec<NewEvent>) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut head = self.head().await?;
        let statements = events_sql(self.insert_verb(), seal(events, &mut head));
        self.write_events(statements, head).await
    }

    /// Inserts sealed events and moves the stored chain head to `head`, their last.
    async fn write_events(&mut self, statements: Vec<Sql>, head: Tip) -> Result<()> {
        for sql in statements {
            self.conn.execute(sql).await?;
        }
        chain::write_head(&mut self.conn, self.key.as_ref(), &head, self.checkpoint).await?;
        if self.key.is_some() {
            self.checkpoint = head.seq;
        }
        self.head = Some(head);
        Ok(())
    }

    /// Applies a change set made ready by [`prepare_changes`] against the head this
    /// transaction holds.
    pub(crate) async fn apply_prepared(&mut self, p: Prepared) -> Result<()> {
        // Take the chain lock first, as `apply` does.
        self.head().await?;
        for step in p.steps {
            match step {
                Step::Assets(chunk, sql) => self.insert_asset_chunk(&chunk, sql).await?,
                Step::Write(w) => self.write(w).await?,
            }
        }
        match p.head {
            Some(head) => self.write_events(p.events, head).await,
            None => Ok(()),
        }
    }

    /// The chain head this transaction appends to (locked).
    pub(crate) async fn chain_head(&mut self) -> Result<Tip> {
        self.head().await
    }
}

/// A change set made ready away from the transaction: the inserts of its new assets and its
/// events, sealed onto the chain, are built statements, so the transaction only runs them.
pub(crate) struct Prepared {
    steps: Vec<Step>,
    events: Vec<Sql>,
    /// The chain head after these events (`None` without events).
    head: Option<Tip>,
}

enum Step {
    /// Up to [`BATCH`] new assets and the statement that inserts them.
    Assets(Vec<Asset>, Sql),
    /// Any other write, applied as `apply` does.
    Write(Write),
}

/// Builds a change set's statements against the chain head `head`, which moves on past its
/// events. `verb` is how inserts begin ([`SqlTx::insert_verb`]).
pub(crate) fn prepare_changes(
    changes: ChangeSet,
    head: &mut Tip,
    verb: &'static str,
) -> Result<Prepared> {
    if changes.events.is_empty() && !changes.writes.is_empty() {
        return Err(StoreError::Other(
            "a change must be recorded by an audit event".into(),
        ));
    }
    let mut steps = Vec::new();
    let mut run: Vec<Asset> = Vec::new();
    let flush = |run: &mut Vec<Asset>, steps: &mut Vec<Step>| {
        let mut rest = std::mem::take(run);
        while !rest.is_empty() {
            let tail = rest.split_off(rest.len().min(BATCH));
            let sql = assets_sql(verb, &rest);
            steps.push(Step::Assets(rest, sql));
            rest = tail;
        }
    };
    for w in changes.writes {
        match w {
            Write::Asset(AssetWrite::InsertAsset(a)) => run.push(*a),
            other => {
                flush(&mut run, &mut steps);
                steps.push(Step::Write(other));
            }
        }
    }
    flush(&mut run, &mut steps);
    let (events, head) = if changes.events.is_empty() {
        (Vec::new(), None)
    } else {
        let events = events_sql(verb, seal(changes.events, head));
        (events, Some(head.clone()))
    };
    Ok(Prepared {
        steps,
        events,
        head,
    })
}

/// Seals events onto the chain after `head`, moving it on.
fn seal(events: Vec<NewEvent>, head: &mut Tip) -> Vec<custodian_domain::audit::Event> {
    let mut sealed = Vec::with_capacity(events.len());
    for mut e in events {
        // The trail's times never go back: an event prepared before one that committed
        // ahead of it is recorded at that one's time, so a time cuts the chain once.
        if let Some(at) = head.at {
            e.occurred_at = e.occurred_at.max(at);
        }
        head.at = Some(e.occurred_at);
        head.seq += 1;
        let s = e.seal(head.seq, &head.hash);
        head.hash.clone_from(&s.hash);
        sealed.push(s);
    }
    sealed
}

/// The statements that insert sealed events, [`BATCH`] rows each.
fn events_sql(verb: &str, sealed: Vec<custodian_domain::audit::Event>) -> Vec<Sql> {
    let mut out = Vec::with_capacity(sealed.len().div_ceil(BATCH));
    let mut it = sealed.into_iter().peekable();
    while it.peek().is_some() {
        let mut sql = Sql::new("");
        let tuples: Vec<String> = it
            .by_ref()
            .take(BATCH)
            .map(|e| {
                let ps = [
                    sql.arg(e.seq),
                    sql.arg(e.id),
                    sql.arg(e.occurred_at),
                    sql.arg(e.actor),
                    sql.arg(e.action),
                    sql.arg(e.entity_type),
                    sql.arg(e.entity_id),
                    sql.arg(e.changes),
                    sql.arg(e.request_id),
                    sql.arg(e.prev_hash),
                    sql.arg(e.hash),
                ];
                format!("({})", ps.join(", "))
            })
            .collect();
        sql.text = format!(
            "{verb} audit_events ({}) VALUES {}",
            rows::EVENT_COLS,
            tuples.join(", ")
        );
        out.push(sql);
    }
    out
}

/// The statement that inserts these assets, answering each one's `id` and `seq`.
fn assets_sql(verb: &str, chunk: &[Asset]) -> Sql {
    let mut sql = Sql::new("");
    let mut cols: Vec<&str> = Vec::new();
    let mut tuples = Vec::with_capacity(chunk.len());
    for a in chunk {
        let values = rows::asset_values(a);
        if cols.is_empty() {
            cols = values.iter().map(|(c, _)| *c).collect();
        }
        let ps: Vec<String> = values.into_iter().map(|(_, v)| sql.arg(v)).collect();
        tuples.push(format!("({})", ps.join(", ")));
    }
    sql.text = format!(
        "{verb} assets ({}) VALUES {} RETURNING id, seq",
        cols.join(", "),
        tuples.join(", ")
    );
    sql
}

#[async_trait]
impl Tx for SqlTx {
    async fn reserve_asset_numbers(&mut self, prefix: &str, n: usize) -> Result<Vec<String>> {
        let mut out = Vec::with_capacity(n);
        let mut rounds = 0;
        while out.len() < n {
            rounds += 1;
            if rounds > 1000 {
                return Err(StoreError::Other(
                    "could not find free asset numbers".into(),
                ));
            }
            let want = (n - out.len()) as i64;
            let sql = Sql::new("INSERT INTO counters (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value RETURNING value")
                .bind(format!("asset_number:{prefix}"))
                .bind(want);
            let end: i64 = self.conn.fetch_one(sql).await?.get("value")?;
            let candidates: Vec<String> = (end - want + 1..=end)
                .map(|i| format_asset_number(prefix, i))
                .collect();
            let taken = self.taken_asset_numbers(&candidates).await?;
            out.extend(candidates.into_iter().filter(|c| !taken.contains(c)));
        }
        Ok(out)
    }

    async fn taken_asset_numbers(&mut self, numbers: &[String]) -> Result<Vec<String>> {
        let mut taken = Vec::new();
        for chunk in numbers.chunks(BATCH) {
            let mut sql = Sql::new("SELECT asset_number FROM assets WHERE asset_number IN ");
            sql.push_list(chunk.iter().cloned());
            for r in self.conn.fetch_all(sql).await? {
                taken.push(r.get::<String>("asset_number")?);
            }
        }
        Ok(taken)
    }

    async fn find_assets(&mut self, key: MatchKey, values: &[String]) -> Result<Vec<Asset>> {
        let mut out = Vec::new();
        for chunk in values.chunks(BATCH / 2) {
            if let Some(sql) = find_assets_sql(key, chunk) {
                for r in self.conn.fetch_all(sql).await? {
                    out.push(rows::asset(&r)?.1);
                }
            }
        }
        Ok(out)
    }

    async fn apply(&mut self, changes: ChangeSet) -> Result<()> {
        if changes.events.is_empty() && !changes.writes.is_empty() {
            return Err(StoreError::Other(
                "a change must be recorded by an audit event".into(),
            ));
        }
        // Take the chain lock first, so that writers queue before touching rows.
        self.head().await?;
        let mut run: Vec<Asset> = Vec::new();
        for w in changes.writes {
            match w {
                Write::Asset(AssetWrite::InsertAsset(a)) => run.push(*a),
                other => {
                    if !run.is_empty() {
                        self.insert_assets(&std::mem::take(&mut run)).await?;
                    }
                    self.write(other).await?;
                }
            }
        }
        if !run.is_empty() {
            self.insert_assets(&run).await?;
        }
        self.append(changes.events).await
    }

    async fn reseal_chain(&mut self, key: ChainKey) -> Result<u64> {
        let head = self.head().await?;
        let n = chain::reseal(&mut self.conn, &key, &head).await?;
        self.key = Some(key);
        Ok(n)
    }

    async fn release_asset_numbers(&mut self, prefix: &str, n: usize) -> Result<()> {
        if n > 0 {
            let sql = Sql::new("UPDATE counters SET value = value - $1 WHERE name = $2")
                .bind(n as i64)
                .bind(format!("asset_number:{prefix}"));
            self.conn.execute(sql).await?;
        }
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        let SqlTx {
            mut conn,
            pools,
            bulk,
            deferred,
            ..
        } = *self;
        for create in deferred {
            conn.execute(Sql::new(create)).await?;
        }
        let committed = conn.commit().await;
        end_bulk(&pools, bulk).await?;
        committed
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        let SqlTx {
            conn, pools, bulk, ..
        } = *self;
        let rolled_back = conn.rollback().await;
        end_bulk(&pools, bulk).await?;
        rolled_back
    }
}
