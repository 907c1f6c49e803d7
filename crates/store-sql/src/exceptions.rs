//! Policy exceptions: their SQL.

use custodian_domain::exception::{ExceptionRule, ExceptionStatus, PolicyException};
use custodian_store::Result;
use uuid::Uuid;

use super::*;
use crate::db::{Row, Sql};
use crate::rows::word;
use crate::tx::SqlTx;
use custodian_store::*;

pub const EXCEPTION_COLS: &str = "seq, id, rule, justification, compensating_controls, requester_id, approver_id, decided_at, decision_notes, expires_at, status, version, created_at, updated_at";

pub fn exception_values(x: &PolicyException) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("id", x.id.into()),
        ("rule", x.rule.as_str().into()),
        ("justification", x.justification.clone().into()),
        (
            "compensating_controls",
            x.compensating_controls.clone().into(),
        ),
        ("requester_id", x.requester_id.into()),
        ("approver_id", x.approver_id.into()),
        ("decided_at", x.decided_at.into()),
        ("decision_notes", x.decision_notes.clone().into()),
        ("expires_at", x.expires_at.into()),
        ("status", x.status.as_str().into()),
        ("version", x.version.into()),
        ("created_at", x.created_at.into()),
        ("updated_at", x.updated_at.into()),
    ]
}

/// An exception without its assets (filled in by the caller).
pub fn exception(row: &Row) -> Result<(i64, PolicyException)> {
    Ok((
        row.get("seq")?,
        PolicyException {
            id: row.get("id")?,
            rule: word(row, "rule", ExceptionRule::parse)?,
            asset_ids: vec![],
            justification: row.get("justification")?,
            compensating_controls: row.get("compensating_controls")?,
            requester_id: row.get("requester_id")?,
            approver_id: row.get("approver_id")?,
            decided_at: row.get("decided_at")?,
            decision_notes: row.get("decision_notes")?,
            expires_at: row.get("expires_at")?,
            status: word(row, "status", ExceptionStatus::parse)?,
            version: row.get("version")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        },
    ))
}

#[async_trait]
impl ExceptionStore for SqlStore {
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
}

impl SqlTx {
    /// Applies a change to policy exceptions.
    pub(crate) async fn write_exceptions(&mut self, w: ExceptionWrite) -> Result<()> {
        match w {
            ExceptionWrite::InsertException(x) => {
                self.insert_row("exceptions", rows::exception_values(&x))
                    .await?;
                for (i, a) in x.asset_ids.iter().enumerate() {
                    self.conn
                        .execute(Sql::new("INSERT INTO exception_assets (exception_id, asset_id, position) VALUES ($1, $2, $3)").bind(x.id).bind(*a).bind(i as i64))
                        .await?;
                }
                Ok(())
            }
            ExceptionWrite::UpdateException {
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
        }
    }
}
