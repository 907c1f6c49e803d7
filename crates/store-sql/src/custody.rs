//! Custody and seat assignments: their SQL.

use custodian_domain::custody::{Assignment, AssignmentKind, AssignmentOutcome};
use custodian_store::Result;
use serde_json::Value;
use uuid::Uuid;

use super::*;
use crate::db::{Row, Sql};
use crate::rows::{opt_word, strings, word};
use crate::tx::SqlTx;
use custodian_store::*;

pub const ASSIGNMENT_COLS: &str = "seq, id, asset_id, kind, person_id, host_id, issued_at, issued_by, expected_return_at, off_premises, location_id, approved_by, exception_id, policy_id, warnings, notes, returned_at, received_by, condition, outcome, version, created_at, updated_at";

pub fn assignment_values(a: &Assignment) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("id", a.id.into()),
        ("asset_id", a.asset_id.into()),
        ("kind", a.kind.as_str().into()),
        ("person_id", a.person_id.into()),
        ("host_id", a.host_id.into()),
        ("issued_at", a.issued_at.into()),
        ("issued_by", a.issued_by.into()),
        ("expected_return_at", a.expected_return_at.into()),
        ("off_premises", a.off_premises.into()),
        ("location_id", a.location_id.into()),
        ("approved_by", a.approved_by.into()),
        ("exception_id", a.exception_id.into()),
        ("policy_id", a.policy_id.into()),
        (
            "warnings",
            Value::Array(a.warnings.iter().cloned().map(Value::String).collect()).into(),
        ),
        ("notes", a.notes.clone().into()),
        ("returned_at", a.returned_at.into()),
        ("received_by", a.received_by.into()),
        ("condition", a.condition.clone().into()),
        ("outcome", a.outcome.map(|o| o.as_str()).into()),
        ("version", a.version.into()),
        ("created_at", a.created_at.into()),
        ("updated_at", a.updated_at.into()),
    ]
}

pub fn assignment(row: &Row) -> Result<(i64, Assignment)> {
    Ok((
        row.get("seq")?,
        Assignment {
            id: row.get("id")?,
            asset_id: row.get("asset_id")?,
            kind: word(row, "kind", AssignmentKind::parse)?,
            person_id: row.get("person_id")?,
            host_id: row.get("host_id")?,
            issued_at: row.get("issued_at")?,
            issued_by: row.get("issued_by")?,
            expected_return_at: row.get("expected_return_at")?,
            off_premises: row.get("off_premises")?,
            location_id: row.get("location_id")?,
            approved_by: row.get("approved_by")?,
            exception_id: row.get("exception_id")?,
            policy_id: row.get("policy_id")?,
            warnings: strings(row, "warnings")?,
            notes: row.get("notes")?,
            returned_at: row.get("returned_at")?,
            received_by: row.get("received_by")?,
            condition: row.get("condition")?,
            outcome: opt_word(row, "outcome", AssignmentOutcome::parse)?,
            version: row.get("version")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        },
    ))
}

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
