//! Custody and seat assignments: their SQL.

use super::*;
use crate::tx::SqlTx;
use custodian_store::*;

#[async_trait]
impl CustodyStore for SqlStore {
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
}

impl SqlTx {
    /// Applies a change to custody and seat assignments.
    pub(crate) async fn write_custody(&mut self, w: CustodyWrite) -> Result<()> {
        match w {
            CustodyWrite::InsertAssignment(a) => {
                self.insert_row("assignments", rows::assignment_values(&a))
                    .await
            }
            CustodyWrite::UpdateAssignment {
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
        }
    }
}
