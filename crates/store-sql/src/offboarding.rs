//! Offboarding and handover cases: their SQL.

use custodian_domain::offboarding::{
    CaseItem, CaseKind, CaseStatus, ItemKind, ItemStatus, Offboarding,
};
use custodian_store::Result;
use uuid::Uuid;

use super::*;
use crate::db::{Row, Sql};
use crate::rows::word;
use crate::tx::SqlTx;
use custodian_store::*;

pub const OFFBOARDING_COLS: &str = "seq, id, person_id, kind, reason, from_party_id, end_date, successor_id, status, opened_by, closed_at, closed_by, notes, version, created_at, updated_at";

pub const ITEM_COLS: &str = "offboarding_id, id, kind, asset_id, assignment_id, delegation_id, title, status, successor_id, settled_at, settled_by, evidence";

pub fn offboarding_values(c: &Offboarding) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("id", c.id.into()),
        ("person_id", c.person_id.into()),
        ("kind", c.kind.as_str().into()),
        ("reason", c.reason.clone().into()),
        ("from_party_id", c.from_party_id.into()),
        ("end_date", c.end_date.into()),
        ("successor_id", c.successor_id.into()),
        ("status", c.status.as_str().into()),
        ("opened_by", c.opened_by.into()),
        ("closed_at", c.closed_at.into()),
        ("closed_by", c.closed_by.into()),
        ("notes", c.notes.clone().into()),
        ("version", c.version.into()),
        ("created_at", c.created_at.into()),
        ("updated_at", c.updated_at.into()),
    ]
}

pub fn offboarding(row: &Row) -> Result<(i64, Offboarding)> {
    Ok((
        row.get("seq")?,
        Offboarding {
            id: row.get("id")?,
            person_id: row.get("person_id")?,
            kind: word(row, "kind", CaseKind::parse)?,
            reason: row.get("reason")?,
            from_party_id: row.get("from_party_id")?,
            end_date: row.get("end_date")?,
            successor_id: row.get("successor_id")?,
            status: word(row, "status", CaseStatus::parse)?,
            opened_by: row.get("opened_by")?,
            closed_at: row.get("closed_at")?,
            closed_by: row.get("closed_by")?,
            notes: row.get("notes")?,
            items: Vec::new(),
            version: row.get("version")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        },
    ))
}

/// The columns of an item that change when it is settled.
pub fn item_state(i: &CaseItem) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("status", i.status.as_str().into()),
        ("successor_id", i.successor_id.into()),
        ("settled_at", i.settled_at.into()),
        ("settled_by", i.settled_by.into()),
        ("evidence", i.evidence.clone().into()),
    ]
}

pub fn item_values(
    case: Uuid,
    position: usize,
    i: &CaseItem,
) -> Vec<(&'static str, crate::db::Arg)> {
    let mut v = vec![
        ("id", i.id.into()),
        ("offboarding_id", case.into()),
        ("position", (position as i64).into()),
        ("kind", i.kind.as_str().into()),
        ("asset_id", i.asset_id.into()),
        ("assignment_id", i.assignment_id.into()),
        ("delegation_id", i.delegation_id.into()),
        ("title", i.title.clone().into()),
    ];
    v.extend(item_state(i));
    v
}

/// An item and the case it belongs to.
pub fn item(row: &Row) -> Result<(Uuid, CaseItem)> {
    Ok((
        row.get("offboarding_id")?,
        CaseItem {
            id: row.get("id")?,
            kind: word(row, "kind", ItemKind::parse)?,
            asset_id: row.get("asset_id")?,
            assignment_id: row.get("assignment_id")?,
            delegation_id: row.get("delegation_id")?,
            title: row.get("title")?,
            status: word(row, "status", ItemStatus::parse)?,
            successor_id: row.get("successor_id")?,
            settled_at: row.get("settled_at")?,
            settled_by: row.get("settled_by")?,
            evidence: row.get("evidence")?,
        },
    ))
}

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

impl SqlStore {
    /// Each offboarding's items, in order.
    async fn fill_items(&self, cases: &mut [Offboarding]) -> Result<()> {
        let select = format!(
            "SELECT {} FROM offboarding_items WHERE offboarding_id IN ",
            ITEM_COLS
        );
        let order = " ORDER BY offboarding_id, position";
        self.fill_children(cases, &select, order, item, |c| (c.id, &mut c.items))
            .await
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
