//! Attestation campaigns: their SQL.

use super::*;
use crate::tx::SqlTx;
use custodian_store::*;

#[async_trait]
impl AttestationStore for SqlStore {
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
}

impl SqlTx {
    /// Applies a change to attestation campaigns.
    pub(crate) async fn write_attestation(&mut self, w: AttestationWrite) -> Result<()> {
        match w {
            AttestationWrite::InsertAttestation(a) => {
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
            AttestationWrite::UpdateAttestation {
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
        }
    }
}
