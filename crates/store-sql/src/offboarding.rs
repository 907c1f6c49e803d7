//! Offboarding and handover cases: their SQL.

use super::*;
use crate::tx::SqlTx;
use custodian_store::*;

#[async_trait]
impl OffboardingStore for SqlStore {
    async fn offboarding(&self, id: Uuid) -> Result<Option<Offboarding>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM offboardings WHERE id = $1",
            rows::OFFBOARDING_COLS
        ))
        .bind(id);
        let Some(r) = self.pools.fetch_optional(sql).await? else {
            return Ok(None);
        };
        let mut c = vec![rows::offboarding(&r)?.1];
        self.fill_items(&mut c).await?;
        Ok(c.pop())
    }

    async fn list_offboardings(&self, q: &OffboardingQuery) -> Result<Page<Offboarding>> {
        let mut sql = Sql::new("");
        let mut conds = Vec::new();
        if let Some(p) = q.person_id {
            conds.push(format!("person_id = {}", sql.arg(p)));
        }
        if let Some(st) = q.status {
            conds.push(format!("status = {}", sql.arg(st.as_str())));
        }
        if let Some(k) = q.kind {
            conds.push(format!("kind = {}", sql.arg(k.as_str())));
        }
        let mut page = self
            .fetch_directed(
                sql,
                rows::OFFBOARDING_COLS,
                "offboardings",
                conds,
                q.cursor,
                q.limit,
                q.newest_first,
                rows::offboarding,
            )
            .await?;
        self.fill_items(&mut page.items).await?;
        Ok(page)
    }
}

impl SqlTx {
    /// Applies a change to offboarding and handover cases.
    pub(crate) async fn write_offboarding(&mut self, w: OffboardingWrite) -> Result<()> {
        match w {
            OffboardingWrite::InsertOffboarding(c) => {
                self.insert_row("offboardings", rows::offboarding_values(&c))
                    .await?;
                for (i, item) in c.items.iter().enumerate() {
                    self.insert_row("offboarding_items", rows::item_values(c.id, i, item))
                        .await?;
                }
                Ok(())
            }
            OffboardingWrite::UpdateOffboarding {
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
        }
    }
}
