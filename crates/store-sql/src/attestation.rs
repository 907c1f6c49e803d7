//! Attestation campaigns: their SQL.

use custodian_domain::attestation::{
    Attestation, AttestationOwner, AttestationStatus, OwnerResponse,
};
use custodian_store::{Result, StoreError};
use serde_json::Value;
use uuid::Uuid;

use super::*;
use crate::db::{Row, Sql};
use crate::rows::{strings, word};
use crate::tx::SqlTx;
use custodian_store::*;

pub const ATTESTATION_COLS: &str =
    "seq, id, title, due_date, status, opened_by, closed_at, closed_by, version, created_at, updated_at";

pub const ATTESTATION_OWNER_COLS: &str = "attestation_id, owner_id, asset_count, status, responded_at, responded_by, note, disputed_asset_ids";

pub fn attestation_values(a: &Attestation) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("id", a.id.into()),
        ("title", a.title.clone().into()),
        ("due_date", a.due_date.into()),
        ("status", a.status.as_str().into()),
        ("opened_by", a.opened_by.into()),
        ("closed_at", a.closed_at.into()),
        ("closed_by", a.closed_by.into()),
        ("version", a.version.into()),
        ("created_at", a.created_at.into()),
        ("updated_at", a.updated_at.into()),
    ]
}

pub fn attestation(row: &Row) -> Result<(i64, Attestation)> {
    Ok((
        row.get("seq")?,
        Attestation {
            id: row.get("id")?,
            title: row.get("title")?,
            due_date: row.get("due_date")?,
            status: word(row, "status", AttestationStatus::parse)?,
            opened_by: row.get("opened_by")?,
            closed_at: row.get("closed_at")?,
            closed_by: row.get("closed_by")?,
            owners: Vec::new(),
            version: row.get("version")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        },
    ))
}

/// The columns of an owner's row that change when they answer.
pub fn answer_values(o: &AttestationOwner) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("status", o.status.as_str().into()),
        ("responded_at", o.responded_at.into()),
        ("responded_by", o.responded_by.into()),
        ("note", o.note.clone().into()),
        (
            "disputed_asset_ids",
            Value::Array(
                o.disputed_asset_ids
                    .iter()
                    .map(|i| Value::String(i.to_string()))
                    .collect(),
            )
            .into(),
        ),
    ]
}

pub fn attestation_owner_values(
    campaign: Uuid,
    position: usize,
    o: &AttestationOwner,
) -> Vec<(&'static str, crate::db::Arg)> {
    let mut v = vec![
        ("attestation_id", campaign.into()),
        ("owner_id", o.owner_id.into()),
        ("position", (position as i64).into()),
        ("asset_count", o.asset_count.into()),
    ];
    v.extend(answer_values(o));
    v
}

/// An owner's row and the campaign it belongs to.
pub fn attestation_owner(row: &Row) -> Result<(Uuid, AttestationOwner)> {
    Ok((
        row.get("attestation_id")?,
        AttestationOwner {
            owner_id: row.get("owner_id")?,
            asset_count: row.get("asset_count")?,
            status: word(row, "status", OwnerResponse::parse)?,
            responded_at: row.get("responded_at")?,
            responded_by: row.get("responded_by")?,
            note: row.get("note")?,
            disputed_asset_ids: strings(row, "disputed_asset_ids")?
                .iter()
                .filter_map(|s| Uuid::parse_str(s).ok())
                .collect(),
        },
    ))
}

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

impl SqlStore {
    /// Each attestation's owners, in order.
    async fn fill_owners(&self, campaigns: &mut [Attestation]) -> Result<()> {
        let select = format!(
            "SELECT {} FROM attestation_owners WHERE attestation_id IN ",
            ATTESTATION_OWNER_COLS
        );
        let order = " ORDER BY attestation_id, position";
        self.fill_children(campaigns, &select, order, attestation_owner, |c| {
            (c.id, &mut c.owners)
        })
        .await
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
