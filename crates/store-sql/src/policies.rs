//! Policy versions and acknowledgements: their SQL.

use super::*;
use crate::tx::SqlTx;
use custodian_store::*;

#[async_trait]
impl PolicyStore for SqlStore {
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
        }
    }
}
