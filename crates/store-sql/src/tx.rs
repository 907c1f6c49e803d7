//! Write transactions: applying change sets and appending to the audit chain.

use async_trait::async_trait;

use std::collections::HashMap;
use uuid::Uuid;

use custodian_domain::asset::{format_asset_number, Asset};
use custodian_domain::audit::NewEvent;
use custodian_store::{ChangeSet, MatchKey, Result, StoreError, Tx, Write};

use custodian_domain::audit::ChainKey;

use crate::chain::{self, ChainRef};
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
    head: Option<(i64, String)>,
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

    fn pg(&self) -> bool {
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
    async fn head(&mut self) -> Result<(i64, String)> {
        if let Some(h) = &self.head {
            return Ok(h.clone());
        }
        let locked = chain::lock_head(&mut self.conn, &self.chain, self.key.as_ref()).await?;
        self.checkpoint = locked.checkpoint;
        let h = (locked.seq, locked.hash);
        self.head = Some(h.clone());
        Ok(h)
    }

    async fn insert_assets(&mut self, assets: &[Asset]) -> Result<()> {
        for chunk in assets.chunks(BATCH) {
            let sql = assets_sql(self.insert_verb(), chunk);
            self.insert_asset_chunk(chunk, sql).await?;
        }
        Ok(())
    }

    /// Runs one chunk's insert (built by [`assets_sql`]) and adds its side rows.
    async fn insert_asset_chunk(&mut self, chunk: &[Asset], sql: Sql) -> Result<()> {
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
    async fn insert_side_rows(
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

    async fn update_asset(&mut self, a: &Asset, expected_version: i64) -> Result<()> {
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

    async fn insert_row(
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
    async fn update_row(
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

    async fn missing_or_stale(
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

    async fn set_members(&mut self, team: Uuid, members: &[Uuid]) -> Result<()> {
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
            Write::InsertAsset(a) => self.insert_assets(std::slice::from_ref(&a)).await,
            Write::UpdateAsset {
                asset,
                expected_version,
            } => self.update_asset(&asset, expected_version).await,
            Write::InsertDisposal(d) => {
                let sql = rows::insert(
                    "disposals",
                    vec![
                        ("asset_id", d.asset_id.into()),
                        ("method", d.method.as_str().into()),
                        ("performed_by", d.performed_by.into()),
                        ("performed_at", d.performed_at.into()),
                        ("certificate_ref", d.certificate_ref.into()),
                        ("verified_by", d.verified_by.into()),
                        ("notes", d.notes.into()),
                    ],
                );
                self.conn.execute(sql).await.map(drop)
            }
            Write::SetIncidentRef {
                asset_id,
                incident_ref,
            } => {
                self.conn
                    .execute(
                        Sql::new("UPDATE incidents SET incident_ref = $1 WHERE asset_id = $2 AND incident_ref IS NULL")
                            .bind(incident_ref)
                            .bind(asset_id),
                    )
                    .await
                    .map(drop)
            }
            Write::InsertIncident(i) => {
                let sql = rows::insert(
                    "incidents",
                    vec![
                        ("asset_id", i.asset_id.into()),
                        ("status", i.status.as_str().into()),
                        ("reported_at", i.reported_at.into()),
                        ("incident_ref", i.incident_ref.into()),
                        ("notes", i.notes.into()),
                    ],
                );
                self.conn.execute(sql).await.map(drop)
            }
            Write::InsertRelation(r) => {
                let sql = rows::insert(
                    "relations",
                    vec![
                        ("id", r.id.into()),
                        ("from_id", r.from_id.into()),
                        ("to_id", r.to_id.into()),
                        ("type", r.relation_type.as_str().into()),
                        ("created_at", r.created_at.into()),
                    ],
                );
                self.conn.execute(sql).await.map(drop)
            }
            Write::DeleteRelation(id) => {
                let n = self
                    .conn
                    .execute(Sql::new("DELETE FROM relations WHERE id = $1").bind(id))
                    .await?;
                if n == 0 {
                    return Err(StoreError::NotFound {
                        entity: "relation",
                        id: id.to_string(),
                    });
                }
                Ok(())
            }
            Write::InsertParty(p) => {
                self.conn
                    .execute(rows::insert("parties", rows::party_values(&p)))
                    .await?;
                self.set_members(p.id, &p.member_ids).await
            }
            Write::UpdateParty {
                party,
                expected_version,
            } => {
                let n = self
                    .conn
                    .execute(rows::update_versioned(
                        "parties",
                        "id",
                        party.id.into(),
                        rows::party_values(&party),
                        expected_version,
                    ))
                    .await?;
                if n == 0 {
                    return Err(self
                        .missing_or_stale(
                            "parties",
                            "party",
                            party.id.into(),
                            party.id.to_string(),
                            expected_version,
                        )
                        .await);
                }
                self.set_members(party.id, &party.member_ids).await
            }
            Write::InsertPolicy(p) => self.insert_row("policies", rows::policy_values(&p)).await,
            Write::UpdatePolicy {
                policy,
                expected_version,
            } => {
                self.update_row(
                    "policies",
                    "policy",
                    policy.id,
                    rows::policy_values(&policy),
                    expected_version,
                )
                .await
            }
            Write::InsertAcknowledgement(a) => {
                self.insert_row("acknowledgements", rows::ack_values(&a))
                    .await
            }
            Write::InsertAssignment(a) => {
                self.insert_row("assignments", rows::assignment_values(&a))
                    .await
            }
            Write::UpdateAssignment {
                assignment,
                expected_version,
            } => {
                self.update_row(
                    "assignments",
                    "assignment",
                    assignment.id,
                    rows::assignment_values(&assignment),
                    expected_version,
                )
                .await
            }
            Write::InsertException(x) => {
                self.insert_row("exceptions", rows::exception_values(&x))
                    .await?;
                for (i, a) in x.asset_ids.iter().enumerate() {
                    self.conn
                        .execute(Sql::new("INSERT INTO exception_assets (exception_id, asset_id, position) VALUES ($1, $2, $3)").bind(x.id).bind(*a).bind(i as i64))
                        .await?;
                }
                Ok(())
            }
            Write::UpdateException {
                exception,
                expected_version,
            } => {
                self.update_row(
                    "exceptions",
                    "exception",
                    exception.id,
                    rows::exception_values(&exception),
                    expected_version,
                )
                .await
            }
            Write::InsertOffboarding(c) => {
                self.insert_row("offboardings", rows::offboarding_values(&c))
                    .await?;
                for (i, item) in c.items.iter().enumerate() {
                    self.insert_row("offboarding_items", rows::item_values(c.id, i, item))
                        .await?;
                }
                Ok(())
            }
            Write::UpdateOffboarding {
                case,
                items,
                expected_version,
            } => {
                self.update_row(
                    "offboardings",
                    "offboarding case",
                    case.id,
                    rows::offboarding_values(&case),
                    expected_version,
                )
                .await?;
                let written = case
                    .items
                    .iter()
                    .enumerate()
                    .filter(|(_, item)| items.contains(&item.id));
                for (i, item) in written {
                    let mut sql = Sql::new("");
                    let sets: Vec<String> = rows::item_state(item)
                        .into_iter()
                        .map(|(c, v)| format!("{c} = {}", sql.arg(v)))
                        .collect();
                    let id = sql.arg(item.id);
                    let case_id = sql.arg(case.id);
                    sql.text = format!(
                        "UPDATE offboarding_items SET {} WHERE id = {id} AND offboarding_id = {case_id}",
                        sets.join(", ")
                    );
                    if self.conn.execute(sql).await? == 0 {
                        self.insert_row("offboarding_items", rows::item_values(case.id, i, item))
                            .await?;
                    }
                }
                Ok(())
            }
            Write::InsertAttestation(a) => {
                self.insert_row("attestations", rows::attestation_values(&a))
                    .await?;
                for (i, o) in a.owners.iter().enumerate() {
                    self.insert_row(
                        "attestation_owners",
                        rows::attestation_owner_values(a.id, i, o),
                    )
                    .await?;
                }
                Ok(())
            }
            Write::UpdateAttestation {
                id,
                attestation,
                owners,
                expected_version,
            } => {
                if let Some(attestation) = attestation {
                    self.update_row(
                        "attestations",
                        "attestation",
                        id,
                        rows::attestation_values(&attestation),
                        expected_version,
                    )
                    .await?;
                }
                for o in &owners {
                    let mut sql = Sql::new("");
                    let sets: Vec<String> = rows::answer_values(o)
                        .into_iter()
                        .map(|(c, v)| format!("{c} = {}", sql.arg(v)))
                        .collect();
                    let a = sql.arg(id);
                    let owner = sql.arg(o.owner_id);
                    sql.text = format!(
                        "UPDATE attestation_owners SET {} WHERE attestation_id = {a} AND owner_id = {owner}",
                        sets.join(", ")
                    );
                    if self.conn.execute(sql).await? == 0 {
                        return Err(StoreError::NotFound {
                            entity: "attestation owner",
                            id: o.owner_id.to_string(),
                        });
                    }
                }
                Ok(())
            }
            Write::InsertStocktake(t) => {
                self.insert_row("stocktakes", rows::stocktake_values(&t))
                    .await
            }
            Write::CloseStocktake {
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
            Write::InsertStocktakeScan(x) => {
                self.insert_row("stocktake_scans", rows::scan_values(&x))
                    .await
            }
            Write::InsertDelegation(d) => {
                let sql = rows::insert(
                    "delegations",
                    vec![
                        ("id", d.id.into()),
                        ("owner_id", d.owner_id.into()),
                        ("delegate_id", d.delegate_id.into()),
                        ("task", d.task.as_str().into()),
                        ("asset_id", d.asset_id.into()),
                        ("note", d.note.into()),
                        ("created_at", d.created_at.into()),
                        ("ended_at", d.ended_at.into()),
                        ("end_reason", d.end_reason.into()),
                    ],
                );
                self.conn.execute(sql).await.map(drop)
            }
            Write::EndDelegation {
                id,
                ended_at,
                reason,
            } => {
                let n = self
                    .conn
                    .execute(Sql::new("UPDATE delegations SET ended_at = $1, end_reason = $2 WHERE id = $3 AND ended_at IS NULL").bind(ended_at).bind(reason).bind(id))
                    .await?;
                if n == 0 {
                    return Err(StoreError::NotFound {
                        entity: "delegation in force",
                        id: id.to_string(),
                    });
                }
                Ok(())
            }
            Write::InsertLocation(l) => self
                .conn
                .execute(rows::insert("locations", rows::location_values(&l)))
                .await
                .map(drop),
            Write::UpdateLocation {
                location,
                expected_version,
            } => {
                let n = self
                    .conn
                    .execute(rows::update_versioned(
                        "locations",
                        "id",
                        location.id.into(),
                        rows::location_values(&location),
                        expected_version,
                    ))
                    .await?;
                if n == 0 {
                    return Err(self
                        .missing_or_stale(
                            "locations",
                            "location",
                            location.id.into(),
                            location.id.to_string(),
                            expected_version,
                        )
                        .await);
                }
                Ok(())
            }
            Write::InsertClassification(c) => self
                .conn
                .execute(rows::insert(
                    "classifications",
                    rows::classification_values(&c),
                ))
                .await
                .map(drop),
            Write::UpdateClassification {
                level,
                expected_version,
            } => {
                let n = self
                    .conn
                    .execute(rows::update_versioned(
                        "classifications",
                        "key",
                        level.key.clone().into(),
                        rows::classification_values(&level),
                        expected_version,
                    ))
                    .await?;
                if n == 0 {
                    return Err(self
                        .missing_or_stale(
                            "classifications",
                            "classification",
                            level.key.clone().into(),
                            level.key.clone(),
                            expected_version,
                        )
                        .await);
                }
                Ok(())
            }
            Write::DeleteClassification(key) => {
                let n = self
                    .conn
                    .execute(
                        Sql::new("DELETE FROM classifications WHERE key = $1").bind(key.clone()),
                    )
                    .await?;
                if n == 0 {
                    return Err(StoreError::NotFound {
                        entity: "classification",
                        id: key,
                    });
                }
                Ok(())
            }
            Write::InsertCustomField(d) => self
                .conn
                .execute(rows::insert("custom_fields", rows::custom_field_values(&d)))
                .await
                .map(drop),
            Write::UpdateCustomField {
                def,
                expected_version,
            } => {
                let n = self
                    .conn
                    .execute(rows::update_versioned(
                        "custom_fields",
                        "id",
                        def.id.into(),
                        rows::custom_field_values(&def),
                        expected_version,
                    ))
                    .await?;
                if n == 0 {
                    return Err(self
                        .missing_or_stale(
                            "custom_fields",
                            "custom field",
                            def.id.into(),
                            def.id.to_string(),
                            expected_version,
                        )
                        .await);
                }
                Ok(())
            }
            Write::InsertUser(u) => self
                .conn
                .execute(rows::insert("users", rows::user_values(&u)))
                .await
                .map(drop),
            Write::UpdateUser {
                user,
                expected_version,
            } => {
                let n = self
                    .conn
                    .execute(rows::update_versioned(
                        "users",
                        "id",
                        user.id.into(),
                        rows::user_values(&user),
                        expected_version,
                    ))
                    .await?;
                if n == 0 {
                    return Err(self
                        .missing_or_stale(
                            "users",
                            "user",
                            user.id.into(),
                            user.id.to_string(),
                            expected_version,
                        )
                        .await);
                }
                Ok(())
            }
            Write::InsertSession(s) => {
                let sql = rows::insert(
                    "sessions",
                    vec![
                        ("id_hash", s.id_hash.into()),
                        ("user_id", s.user_id.into()),
                        ("csrf_token", s.csrf_token.into()),
                        ("created_at", s.created_at.into()),
                        ("last_seen_at", s.last_seen_at.into()),
                        ("ip", s.ip.into()),
                        ("user_agent", s.user_agent.into()),
                    ],
                );
                self.conn.execute(sql).await.map(drop)
            }
            Write::DeleteSession(h) => self
                .conn
                .execute(Sql::new("DELETE FROM sessions WHERE id_hash = $1").bind(h))
                .await
                .map(drop),
            Write::DeleteUserSessions(u) => self
                .conn
                .execute(Sql::new("DELETE FROM sessions WHERE user_id = $1").bind(u))
                .await
                .map(drop),
            Write::InsertToken(t) => {
                let sql = rows::insert(
                    "api_tokens",
                    vec![
                        ("id", t.id.into()),
                        ("user_id", t.user_id.into()),
                        ("name", t.name.into()),
                        ("token_hash", t.token_hash.into()),
                        ("scope", t.scope.as_str().into()),
                        ("created_at", t.created_at.into()),
                        ("expires_at", t.expires_at.into()),
                        ("last_used_at", t.last_used_at.into()),
                        ("revoked_at", t.revoked_at.into()),
                    ],
                );
                self.conn.execute(sql).await.map(drop)
            }
            Write::RevokeToken { id, at } => {
                let n = self
                    .conn
                    .execute(
                        Sql::new("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                            .bind(at)
                            .bind(id),
                    )
                    .await?;
                if n == 0 {
                    return Err(StoreError::NotFound {
                        entity: "token in force",
                        id: id.to_string(),
                    });
                }
                Ok(())
            }
            Write::RevokeUserTokens { user_id, at } => self
                .conn
                .execute(
                    Sql::new("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                        .bind(at)
                        .bind(user_id),
                )
                .await
                .map(drop),
            Write::SetSetting { key, value } => {
                self.conn
                    .execute(Sql::new("DELETE FROM settings WHERE key = $1").bind(key.clone()))
                    .await?;
                if let Some(v) = value {
                    self.conn
                        .execute(
                            Sql::new("INSERT INTO settings (key, value) VALUES ($1, $2)")
                                .bind(key)
                                .bind(v),
                        )
                        .await?;
                }
                Ok(())
            }
            Write::DeleteCustomField(id) => {
                let n = self
                    .conn
                    .execute(Sql::new("DELETE FROM custom_fields WHERE id = $1").bind(id))
                    .await?;
                if n == 0 {
                    return Err(StoreError::NotFound {
                        entity: "custom field",
                        id: id.to_string(),
                    });
                }
                Ok(())
            }
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
    async fn write_events(&mut self, statements: Vec<Sql>, head: (i64, String)) -> Result<()> {
        for sql in statements {
            self.conn.execute(sql).await?;
        }
        chain::write_head(&mut self.conn, self.key.as_ref(), &head, self.checkpoint).await?;
        if self.key.is_some() {
            self.checkpoint = head.0;
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
    pub(crate) async fn chain_head(&mut self) -> Result<(i64, String)> {
        self.head().await
    }
}

/// A change set made ready away from the transaction: the inserts of its new assets and its
/// events, sealed onto the chain, are built statements, so the transaction only runs them.
pub(crate) struct Prepared {
    steps: Vec<Step>,
    events: Vec<Sql>,
    /// The chain head after these events (`None` without events).
    head: Option<(i64, String)>,
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
    head: &mut (i64, String),
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
            Write::InsertAsset(a) => run.push(*a),
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
fn seal(events: Vec<NewEvent>, head: &mut (i64, String)) -> Vec<custodian_domain::audit::Event> {
    let mut sealed = Vec::with_capacity(events.len());
    for e in events {
        head.0 += 1;
        let s = e.seal(head.0, &head.1);
        head.1.clone_from(&s.hash);
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
                Write::InsertAsset(a) => run.push(*a),
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
