//! Policy versions and acknowledgements: their SQL.

use custodian_domain::party::Party;
use custodian_domain::policy::{
    AckSource, Acknowledgement, DocumentFormat, PolicyDocument, PolicyRendering, PolicyStatus,
    PolicyVersion,
};
use custodian_store::Result;
use uuid::Uuid;

use super::*;
use crate::db::{Row, Sql};
use crate::rows::word;
use crate::tx::SqlTx;
use custodian_store::*;

pub const POLICY_COLS: &str = "seq, id, document, number, title, body, effective_date, material, change_summary, author_id, status, approved_by, approved_at, next_review_at, version, created_at, updated_at";

pub const ACK_COLS: &str =
    "seq, id, policy_id, person_id, acknowledged_at, source, note, created_at";

pub fn policy_values(p: &PolicyVersion) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("id", p.id.into()),
        ("document", p.document.as_str().into()),
        ("number", p.number.clone().into()),
        ("title", p.title.clone().into()),
        ("body", p.body.clone().into()),
        ("effective_date", p.effective_date.into()),
        ("material", p.material.into()),
        ("change_summary", p.change_summary.clone().into()),
        ("author_id", p.author_id.into()),
        ("status", p.status.as_str().into()),
        ("approved_by", p.approved_by.into()),
        ("approved_at", p.approved_at.into()),
        ("next_review_at", p.next_review_at.into()),
        ("version", p.version.into()),
        ("created_at", p.created_at.into()),
        ("updated_at", p.updated_at.into()),
    ]
}

pub fn policy(row: &Row) -> Result<(i64, PolicyVersion)> {
    Ok((
        row.get("seq")?,
        PolicyVersion {
            id: row.get("id")?,
            document: word(row, "document", PolicyDocument::parse)?,
            number: row.get("number")?,
            title: row.get("title")?,
            body: row.get("body")?,
            effective_date: row.get("effective_date")?,
            material: row.get("material")?,
            change_summary: row.get("change_summary")?,
            author_id: row.get("author_id")?,
            status: word(row, "status", PolicyStatus::parse)?,
            approved_by: row.get("approved_by")?,
            approved_at: row.get("approved_at")?,
            next_review_at: row.get("next_review_at")?,
            version: row.get("version")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        },
    ))
}

pub fn ack_values(a: &Acknowledgement) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("id", a.id.into()),
        ("policy_id", a.policy_id.into()),
        ("person_id", a.person_id.into()),
        ("acknowledged_at", a.acknowledged_at.into()),
        ("source", a.source.as_str().into()),
        ("note", a.note.clone().into()),
        ("created_at", a.created_at.into()),
    ]
}

pub fn acknowledgement(row: &Row) -> Result<(i64, Acknowledgement)> {
    Ok((
        row.get("seq")?,
        Acknowledgement {
            id: row.get("id")?,
            policy_id: row.get("policy_id")?,
            person_id: row.get("person_id")?,
            acknowledged_at: row.get("acknowledged_at")?,
            source: word(row, "source", AckSource::parse)?,
            note: row.get("note")?,
            created_at: row.get("created_at")?,
        },
    ))
}

#[async_trait]
impl PolicyStore for SqlStore {
    async fn policy_rendering(
        &self,
        policy_id: Uuid,
        format: DocumentFormat,
    ) -> Result<Option<PolicyRendering>> {
        let sql = Sql::new(
            "SELECT policy_id, format, sha256, body, created_at FROM policy_renderings WHERE policy_id = $1 AND format = $2",
        )
        .bind(policy_id)
        .bind(format.as_str());
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| {
                Ok(PolicyRendering {
                    policy_id: r.get("policy_id")?,
                    format: word(&r, "format", DocumentFormat::parse)?,
                    sha256: r.get("sha256")?,
                    bytes: r.get("body")?,
                    created_at: r.get("created_at")?,
                })
            })
            .transpose()
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
            .fetch_rows(sql, |r| rows::policy(r).map(|(_, p)| p))
            .await
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
        if !q.person_ids.is_empty() {
            conds.push(format!("person_id IN {}", sql.list(q.person_ids.clone())));
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
            .fetch_rows(sql, |r| rows::party(r).map(|(_, p)| p))
            .await
    }
}

impl SqlTx {
    /// Applies a change to policy versions and acknowledgements.
    pub(crate) async fn write_policies(&mut self, w: PolicyWrite) -> Result<()> {
        match w {
            PolicyWrite::InsertPolicy(p) => {
                self.insert_row("policies", rows::policy_values(&p)).await
            }
            PolicyWrite::UpdatePolicy {
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
            PolicyWrite::InsertAcknowledgement(a) => {
                self.insert_row("acknowledgements", rows::ack_values(&a))
                    .await
            }
            PolicyWrite::InsertRendering(r) => {
                let values = vec![
                    ("policy_id", r.policy_id.into()),
                    ("format", r.format.as_str().into()),
                    ("sha256", r.sha256.clone().into()),
                    ("body", r.bytes.clone().into()),
                    ("created_at", r.created_at.into()),
                ];
                self.insert_row("policy_renderings", values).await
            }
        }
    }
}
