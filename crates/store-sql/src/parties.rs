//! Persons, teams and roles, and delegations: their SQL.

use custodian_domain::party::{
    Delegation, DelegationTask, EmploymentType, Party, PartyKind, PersonStatus,
};
use custodian_store::{Result, StoreError};
use serde_json::Value;
use uuid::Uuid;

use super::*;
use crate::db::{Row, Sql};
use crate::rows::{object, opt_word, word};
use crate::tx::SqlTx;
use custodian_store::*;

pub const PARTY_COLS: &str = "p.seq, p.id, p.kind, p.name, p.email, p.employment_type, p.status, p.start_date, p.end_date, p.manager_id, p.holder_id, p.custom, p.version, p.created_at, p.updated_at";

pub const DELEGATION_COLS: &str =
    "seq, id, owner_id, delegate_id, task, asset_id, note, created_at, ended_at, end_reason";

pub fn party(row: &Row) -> Result<(i64, Party)> {
    Ok((
        row.get("seq")?,
        Party {
            id: row.get("id")?,
            kind: word(row, "kind", PartyKind::parse)?,
            name: row.get("name")?,
            email: row.get("email")?,
            employment_type: opt_word(row, "employment_type", EmploymentType::parse)?,
            status: opt_word(row, "status", PersonStatus::parse)?,
            start_date: row.get("start_date")?,
            end_date: row.get("end_date")?,
            manager_id: row.get("manager_id")?,
            holder_id: row.get("holder_id")?,
            member_ids: vec![],
            custom: object(row, "custom")?,
            version: row.get("version")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        },
    ))
}

pub fn delegation(row: &Row) -> Result<(i64, Delegation)> {
    Ok((
        row.get("seq")?,
        Delegation {
            id: row.get("id")?,
            owner_id: row.get("owner_id")?,
            delegate_id: row.get("delegate_id")?,
            task: word(row, "task", DelegationTask::parse)?,
            asset_id: row.get("asset_id")?,
            note: row.get("note")?,
            created_at: row.get("created_at")?,
            ended_at: row.get("ended_at")?,
            end_reason: row.get("end_reason")?,
        },
    ))
}

pub fn party_values(p: &Party) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("id", p.id.into()),
        ("kind", p.kind.as_str().into()),
        ("name", p.name.clone().into()),
        ("email", p.email.clone().into()),
        (
            "employment_type",
            p.employment_type.map(|e| e.as_str()).into(),
        ),
        ("status", p.status.map(|e| e.as_str()).into()),
        ("start_date", p.start_date.into()),
        ("end_date", p.end_date.into()),
        ("manager_id", p.manager_id.into()),
        ("holder_id", p.holder_id.into()),
        ("custom", Value::Object(p.custom.clone()).into()),
        ("version", p.version.into()),
        ("created_at", p.created_at.into()),
        ("updated_at", p.updated_at.into()),
    ]
}

#[async_trait]
impl PartyStore for SqlStore {
    async fn party(&self, id: Uuid) -> Result<Option<Party>> {
        Ok(self.parties(&[id]).await?.into_iter().next())
    }

    async fn person_by_email(&self, email: &str) -> Result<Option<Party>> {
        let sql = Sql::new(format!(
            "SELECT {PARTY_COLS} FROM parties p WHERE p.email = $1 AND p.kind = 'person'"
        ))
        .bind(email.to_string());
        let Some(r) = self.pools.fetch_optional(sql).await? else {
            return Ok(None);
        };
        let mut found = vec![rows::party(&r)?.1];
        self.fill_members(&mut found).await?;
        Ok(found.pop())
    }

    async fn parties(&self, ids: &[Uuid]) -> Result<Vec<Party>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let mut out = Vec::new();
        for chunk in ids.chunks(400) {
            let mut sql = Sql::new(format!("SELECT {PARTY_COLS} FROM parties p WHERE p.id IN "));
            sql.push_list(chunk.iter().copied());
            for r in self.pools.fetch_all(sql).await? {
                out.push(rows::party(&r)?.1);
            }
        }
        self.fill_members(&mut out).await?;
        Ok(out)
    }

    async fn list_parties(&self, q: &PartyQuery) -> Result<Page<Party>> {
        let mut sql = Sql::new("");
        let mut conds = Vec::new();
        if let Some(k) = q.kind {
            conds.push(format!("p.kind = {}", sql.arg(k.as_str())));
        }
        if let Some(s) = q.status {
            conds.push(format!("p.status = {}", sql.arg(s.as_str())));
        }
        if let Some(text) = q.q.as_deref().filter(|t| !t.trim().is_empty()) {
            let pattern = format!("%{}%", text.trim().to_lowercase().replace(['%', '_'], ""));
            let p = sql.arg(pattern);
            conds.push(format!(
                "(lower(p.name) LIKE {p} OR lower(p.email) LIKE {p})"
            ));
        }
        if let Some(w) = &q.within {
            conds.push(within(&mut sql, w, &["p.id"], "p.id"));
        }
        let listing = Listing {
            cols: PARTY_COLS,
            from: "parties p",
            key: "p.seq",
            conds,
            cursor: q.cursor,
            limit: q.limit,
        };
        let mut pg = self.fetch_page(sql, listing, rows::party).await?;
        self.fill_members(&mut pg.items).await?;
        Ok(pg)
    }

    async fn party_directory(&self) -> Result<Vec<PartyRef>> {
        let rows = self
            .pools
            .fetch_all(Sql::new(
                "SELECT id, kind, name, email FROM parties ORDER BY seq",
            ))
            .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.get("kind")?;
                Ok(PartyRef {
                    id: r.get("id")?,
                    kind: PartyKind::parse(&kind)
                        .ok_or_else(|| StoreError::Other(format!("unknown party kind {kind:?}")))?,
                    name: r.get("name")?,
                    email: r.get("email")?,
                })
            })
            .collect()
    }

    async fn delegation(&self, id: Uuid) -> Result<Option<Delegation>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM delegations WHERE id = $1",
            rows::DELEGATION_COLS
        ))
        .bind(id);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| rows::delegation(&r).map(|(_, d)| d))
            .transpose()
    }

    async fn list_delegations(&self, q: &DelegationQuery) -> Result<Page<Delegation>> {
        let mut sql = Sql::new("");
        let mut conds = Vec::new();
        if let Some(o) = q.owner_id {
            conds.push(format!("owner_id = {}", sql.arg(o)));
        }
        if let Some(d) = q.delegate_id {
            conds.push(format!("delegate_id = {}", sql.arg(d)));
        }
        if q.active_only {
            conds.push("ended_at IS NULL".into());
        }
        if let Some(w) = &q.within {
            conds.push(within(&mut sql, w, &["owner_id", "delegate_id"], "id"));
        }
        let listing = Listing {
            cols: rows::DELEGATION_COLS,
            from: "delegations",
            key: "seq",
            conds,
            cursor: q.cursor,
            limit: q.limit,
        };
        self.fetch_page(sql, listing, rows::delegation).await
    }

    async fn memberships(&self, person_id: Uuid) -> Result<Vec<Uuid>> {
        let sql = Sql::new(
            "SELECT team_id AS id FROM team_members WHERE person_id = $1 \
             UNION SELECT id FROM parties WHERE kind = 'role' AND holder_id = $1",
        )
        .bind(person_id);
        self.pools.fetch_rows(sql, |r| r.get("id")).await
    }
}

impl SqlTx {
    /// Applies a change to persons, teams and roles, and delegations.
    pub(crate) async fn write_parties(&mut self, w: PartyWrite) -> Result<()> {
        match w {
            PartyWrite::InsertParty(p) => {
                self.conn
                    .execute(rows::insert("parties", rows::party_values(&p)))
                    .await?;
                self.set_members(p.id, &p.member_ids).await
            }
            PartyWrite::UpdateParty {
                party,
                expected_version,
            } => {
                let n = self
                    .conn
                    .execute(rows::update_versioned(
                        "parties",
                        "id",
                        party.id.into(),
                        rows::party_values(&party),
                        expected_version,
                    ))
                    .await?;
                if n == 0 {
                    return Err(self
                        .missing_or_stale(
                            "parties",
                            "party",
                            party.id.into(),
                            party.id.to_string(),
                            expected_version,
                        )
                        .await);
                }
                self.set_members(party.id, &party.member_ids).await
            }
            PartyWrite::InsertDelegation(d) => {
                let sql = rows::insert(
                    "delegations",
                    vec![
                        ("id", d.id.into()),
                        ("owner_id", d.owner_id.into()),
                        ("delegate_id", d.delegate_id.into()),
                        ("task", d.task.as_str().into()),
                        ("asset_id", d.asset_id.into()),
                        ("note", d.note.into()),
                        ("created_at", d.created_at.into()),
                        ("ended_at", d.ended_at.into()),
                        ("end_reason", d.end_reason.into()),
                    ],
                );
                self.conn.execute(sql).await.map(drop)
            }
            PartyWrite::EndDelegation {
                id,
                ended_at,
                reason,
            } => {
                let n = self
                    .conn
                    .execute(Sql::new("UPDATE delegations SET ended_at = $1, end_reason = $2 WHERE id = $3 AND ended_at IS NULL").bind(ended_at).bind(reason).bind(id))
                    .await?;
                if n == 0 {
                    return Err(StoreError::NotFound {
                        entity: "delegation in force",
                        id: id.to_string(),
                    });
                }
                Ok(())
            }
        }
    }
}
