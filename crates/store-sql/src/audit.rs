//! The audit trail (events, their chain and its seals): its SQL.

use custodian_domain::audit::Event;
use custodian_store::Result;

use super::*;
use crate::db::{Row, Sql};
use custodian_store::*;

pub const EVENT_COLS: &str = "seq, id, occurred_at, actor, action, entity_type, entity_id, changes, request_id, prev_hash, hash";

pub fn event(row: &Row) -> Result<Event> {
    Ok(Event {
        seq: row.get("seq")?,
        id: row.get("id")?,
        occurred_at: row.get("occurred_at")?,
        actor: row.get("actor")?,
        action: row.get("action")?,
        entity_type: row.get("entity_type")?,
        entity_id: row.get("entity_id")?,
        changes: row.get("changes")?,
        request_id: row.get("request_id")?,
        prev_hash: row.get("prev_hash")?,
        hash: row.get("hash")?,
    })
}

#[async_trait]
impl AuditStore for SqlStore {
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
            .fetch_rows(sql, |r| rows::event(r).map(|e| (e.seq, e)))
            .await?;
        Ok(page(rows, limit))
    }

    async fn search_events(&self, q: &EventQuery) -> Result<Vec<Event>> {
        let mut sql = Sql::new("");
        let mut conds: Vec<String> = Vec::new();
        if let Some(b) = q.before {
            conds.push(format!("seq < {}", sql.arg(b)));
        }
        if let Some(a) = q.after {
            conds.push(format!("seq > {}", sql.arg(a)));
        }
        // The ranges below are of bytes: PostgreSQL compares in byte order only when told.
        let bytes = if self.pg() { " COLLATE \"C\"" } else { "" };
        if let Some(actor) = &q.actor {
            // A user's tokens act as `user:ID/token:…`: between `user:ID/` and `user:ID0`.
            let (is, lo, hi) = (
                sql.arg(actor.clone()),
                sql.arg(format!("{actor}/")),
                sql.arg(format!("{actor}0")),
            );
            conds.push(format!(
                "(actor{bytes} = {is} OR (actor{bytes} > {lo} AND actor{bytes} < {hi}))"
            ));
        }
        if let Some(action) = &q.action {
            match action.strip_suffix('.') {
                // Every action under the prefix: from `asset.` up to `asset/`.
                Some(stem) => {
                    let (lo, hi) = (sql.arg(action.clone()), sql.arg(format!("{stem}/")));
                    conds.push(format!("action{bytes} >= {lo} AND action{bytes} < {hi}"));
                }
                None => conds.push(format!("action = {}", sql.arg(action.clone()))),
            }
        }
        if let Some(t) = &q.entity_type {
            conds.push(format!("entity_type = {}", sql.arg(t.clone())));
        }
        if let Some(id) = &q.entity_id {
            conds.push(format!("entity_id = {}", sql.arg(id.clone())));
        }
        let filter = if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        };
        sql.text = format!(
            "SELECT {} FROM audit_events{filter} ORDER BY seq DESC LIMIT {}",
            rows::EVENT_COLS,
            q.limit.clamp(1, MAX_PAGE)
        );
        self.pools.fetch_rows(sql, rows::event).await
    }

    async fn events_after(&self, seq: i64, limit: u32) -> Result<Vec<Event>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT {}",
            rows::EVENT_COLS,
            limit.max(1)
        ))
        .bind(seq);
        self.pools.fetch_rows(sql, rows::event).await
    }

    async fn entities_after(&self, seq: i64, limit: u32) -> Result<Vec<(i64, String, String)>> {
        let sql = Sql::new(format!(
            "SELECT seq, entity_type, entity_id FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT {}",
            limit.max(1)
        ))
        .bind(seq);
        self.pools
            .fetch_rows(sql, |r| {
                Ok((r.get("seq")?, r.get("entity_type")?, r.get("entity_id")?))
            })
            .await
    }

    async fn audit_head_at(&self, at: chrono::DateTime<chrono::Utc>) -> Result<(i64, String)> {
        // Times never go back along the chain, so the events recorded by `at` are a prefix
        // of it: its end is found by halving, one read by key at a time.
        let (mut lo, mut hi) = (0_i64, self.audit_head().await?.0);
        while lo < hi {
            let mid = lo + (hi - lo + 1) / 2;
            let t: chrono::DateTime<chrono::Utc> = self
                .pools
                .fetch_one(
                    Sql::new("SELECT occurred_at FROM audit_events WHERE seq = $1").bind(mid),
                )
                .await?
                .get("occurred_at")?;
            if t <= at {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        if lo == 0 {
            return Ok((0, custodian_domain::audit::GENESIS.to_string()));
        }
        let hash: String = self
            .pools
            .fetch_one(Sql::new("SELECT hash FROM audit_events WHERE seq = $1").bind(lo))
            .await?
            .get("hash")?;
        Ok((lo, hash))
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
        until: Option<i64>,
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
        if let Some(until) = until {
            let u = sql.arg(until);
            sql.push(&format!(" AND seq <= {u}"));
        }
        sql.push(&format!(" ORDER BY entity_id, seq LIMIT {}", limit.max(1)));
        self.pools.fetch_rows(sql, rows::event).await
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

    async fn seal_unsealed_chain(
        &self,
        key: &custodian_domain::audit::ChainKey,
    ) -> Result<custodian_store::SealedHead> {
        chain::seal_first(&self.pools, key).await
    }
}
