//! Assets, their disposal and incident records, and the links between them: their SQL.

use custodian_domain::asset::{Asset, AssetKind, Importance, Relation, RelationType};
use custodian_domain::lifecycle::{DisposalMethod, DisposalRecord, IncidentReport, Status};
use custodian_store::{Result, StoreError};
use serde_json::Value;
use uuid::Uuid;

use super::*;
use crate::db::{Row, Sql};
use crate::rows::{object, strings, word};
use crate::tx::SqlTx;
use custodian_store::*;

pub const ASSET_COLS: &str = "a.seq, a.id, a.asset_number, a.kind, a.name, a.description, a.owner_id, a.importance, a.classification, a.status, a.location_id, a.tags, a.custom, a.external_ids, a.last_reviewed_at, a.last_reviewed_by, a.next_review_at, a.attrs, a.version, a.created_at, a.updated_at";

pub const RELATION_COLS: &str = "id, from_id, to_id, type, created_at";

pub fn asset(row: &Row) -> Result<(i64, Asset)> {
    Ok((
        row.get("seq")?,
        Asset {
            id: row.get("id")?,
            asset_number: row.get("asset_number")?,
            kind: word(row, "kind", AssetKind::parse)?,
            name: row.get("name")?,
            description: row.get("description")?,
            owner_id: row.get("owner_id")?,
            importance: word(row, "importance", Importance::parse)?,
            classification: row.get("classification")?,
            status: word(row, "status", Status::parse)?,
            location_id: row.get("location_id")?,
            tags: strings(row, "tags")?,
            custom: object(row, "custom")?,
            external_ids: object(row, "external_ids")?,
            last_reviewed_at: row.get("last_reviewed_at")?,
            last_reviewed_by: row.get("last_reviewed_by")?,
            next_review_at: row.get("next_review_at")?,
            attrs: object(row, "attrs")?,
            version: row.get("version")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        },
    ))
}

/// The lower-case words the text search indexes.
pub fn search_words(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The asset columns written on insert and update, in order, with their values.
pub fn asset_values(a: &Asset) -> Vec<(&'static str, crate::db::Arg)> {
    let tags = Value::Array(a.tags.iter().cloned().map(Value::String).collect());
    vec![
        ("id", a.id.into()),
        ("asset_number", a.asset_number.clone().into()),
        ("kind", a.kind.as_str().into()),
        ("name", a.name.clone().into()),
        ("description", a.description.clone().into()),
        ("owner_id", a.owner_id.into()),
        ("importance", a.importance.as_str().into()),
        ("classification", a.classification.clone().into()),
        ("status", a.status.as_str().into()),
        ("location_id", a.location_id.into()),
        ("tags", tags.into()),
        ("custom", Value::Object(a.custom.clone()).into()),
        ("external_ids", Value::Object(a.external_ids.clone()).into()),
        ("last_reviewed_at", a.last_reviewed_at.into()),
        ("last_reviewed_by", a.last_reviewed_by.into()),
        ("next_review_at", a.next_review_at.into()),
        (
            "serial_number",
            a.attr_str("serial_number").map(String::from).into(),
        ),
        ("attrs", Value::Object(a.attrs.clone()).into()),
        ("search_text", search_words(&a.search_text()).into()),
        ("version", a.version.into()),
        ("created_at", a.created_at.into()),
        ("updated_at", a.updated_at.into()),
    ]
}

pub fn relation(row: &Row) -> Result<Relation> {
    Ok(Relation {
        id: row.get("id")?,
        from_id: row.get("from_id")?,
        to_id: row.get("to_id")?,
        relation_type: word(row, "type", RelationType::parse)?,
        created_at: row.get("created_at")?,
    })
}

pub fn disposal(row: &Row) -> Result<DisposalRecord> {
    Ok(DisposalRecord {
        asset_id: row.get("asset_id")?,
        method: word(row, "method", DisposalMethod::parse)?,
        performed_by: row.get("performed_by")?,
        performed_at: row.get("performed_at")?,
        certificate_ref: row.get("certificate_ref")?,
        verified_by: row.get("verified_by")?,
        notes: row.get("notes")?,
    })
}

pub fn incident(row: &Row) -> Result<IncidentReport> {
    Ok(IncidentReport {
        asset_id: row.get("asset_id")?,
        status: word(row, "status", Status::parse)?,
        reported_at: row.get("reported_at")?,
        incident_ref: row.get("incident_ref")?,
        notes: row.get("notes")?,
    })
}

#[async_trait]
impl AssetStore for SqlStore {
    async fn find_assets(
        &self,
        key: custodian_store::MatchKey,
        values: &[String],
    ) -> Result<Vec<Asset>> {
        tx::find_assets(&self.pools, key, values).await
    }

    async fn reserve_asset_numbers(&self, prefix: &str, n: usize) -> Result<Vec<String>> {
        let mut tx = self.begin().await?;
        let numbers = tx.reserve_asset_numbers(prefix, n).await?;
        tx.commit().await?;
        Ok(numbers)
    }

    async fn taken_asset_numbers(&self, numbers: &[String]) -> Result<Vec<String>> {
        let mut taken = Vec::new();
        for chunk in numbers.chunks(400) {
            let mut sql = Sql::new("SELECT asset_number FROM assets WHERE asset_number IN ");
            sql.push_list(chunk.iter().cloned());
            for r in self.pools.fetch_all(sql).await? {
                taken.push(r.get::<String>("asset_number")?);
            }
        }
        Ok(taken)
    }

    async fn asset(&self, id: Uuid) -> Result<Option<Asset>> {
        let sql = Sql::new(format!("SELECT {ASSET_COLS} FROM assets a WHERE a.id = $1")).bind(id);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| rows::asset(&r).map(|(_, a)| a))
            .transpose()
    }

    async fn asset_by_number(&self, number: &str) -> Result<Option<Asset>> {
        let sql = Sql::new(format!(
            "SELECT {ASSET_COLS} FROM assets a WHERE a.asset_number = $1"
        ))
        .bind(number);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| rows::asset(&r).map(|(_, a)| a))
            .transpose()
    }

    async fn list_assets(&self, q: &AssetQuery) -> Result<Page<Asset>> {
        let limit = clamp(q.limit);
        let mut sql = Sql::new("");
        let mut from = String::from("assets a");
        let mut conds: Vec<String> = Vec::new();
        // The key the page is ordered by: the search index's rowid when searching on SQLite
        // (FTS5 returns matches in rowid order, and rowid is the asset's seq), else seq.
        let mut key = "a.seq";
        if let Some(text) = q.q.as_deref().filter(|t| !t.trim().is_empty()) {
            let terms = search_terms(text);
            if terms.is_empty() {
                return Ok(Page {
                    items: vec![],
                    next_cursor: None,
                });
            }
            if self.pg() {
                let tsq: Vec<String> = terms.iter().map(|t| format!("{t}:*")).collect();
                let tsq = tsq.join(" & ");
                match self.rare_matches(&tsq, q.cursor).await? {
                    // Few matches: page through exactly those rows.
                    Some(seqs) if seqs.is_empty() => {
                        return Ok(Page {
                            items: vec![],
                            next_cursor: None,
                        })
                    }
                    Some(seqs) => {
                        let ps: Vec<String> = seqs.into_iter().map(|n| sql.arg(n)).collect();
                        conds.push(format!("a.seq IN ({})", ps.join(", ")));
                    }
                    // Many matches: walking the table in page order finds a page at once.
                    None => conds.push(format!(
                        "a.search_tsv @@ to_tsquery('simple', {})",
                        sql.arg(tsq)
                    )),
                }
            } else {
                let fts: Vec<String> = terms.iter().map(|t| format!("\"{t}\"*")).collect();
                from = "assets_fts JOIN assets a ON a.seq = assets_fts.rowid".into();
                conds.push(format!("assets_fts MATCH {}", sql.arg(fts.join(" "))));
                key = "assets_fts.rowid";
            }
        }
        if let Some(tag) = &q.tag {
            from.push_str(" JOIN asset_tags t ON t.seq = a.seq");
            conds.push(format!("t.tag = {}", sql.arg(tag.clone())));
            if key == "a.seq" {
                key = "t.seq";
            }
        }
        // A sorted list walks its sort index and filters as it goes: on SQLite, whose
        // planner has no statistics, the broad filters (a sixth of the register or so)
        // are kept off their own indexes (`+col`), which would mean sorting all they match.
        let broad = if q.sort != AssetSort::Registered && !self.pg() {
            "+a."
        } else {
            "a."
        };
        if let Some(k) = q.kind {
            conds.push(format!("{broad}kind = {}", sql.arg(k.as_str())));
        }
        if let Some(s) = q.status {
            conds.push(format!("{broad}status = {}", sql.arg(s.as_str())));
        }
        if let Some(o) = q.owner_id {
            conds.push(format!("a.owner_id = {}", sql.arg(o)));
        }
        if let Some(c) = &q.classification {
            conds.push(format!("{broad}classification = {}", sql.arg(c.clone())));
        }
        if let Some(i) = q.importance {
            conds.push(format!("{broad}importance = {}", sql.arg(i.as_str())));
        }
        if let Some(l) = q.location_id {
            conds.push(format!("a.location_id = {}", sql.arg(l)));
        }
        if let Some(today) = q.review_overdue {
            conds.push(format!("a.next_review_at < {}", sql.arg(today)));
        }
        if let Some(w) = &q.within {
            conds.push(within(&mut sql, w, &["a.owner_id"], "a.id"));
        }
        for f in &q.findings {
            let (check, statuses) = match f {
                FindingFilter::Of(c) => (Some(c), "('open', 'excepted')"),
                FindingFilter::Open(c) => (c.as_ref(), "('open')"),
            };
            let check = check
                .map(|c| format!(" AND f.check_id = {}", sql.arg(c.clone())))
                .unwrap_or_default();
            conds.push(format!(
                "a.id IN (SELECT f.subject_id FROM compliance_findings f WHERE f.subject_type = 'asset' AND f.status IN {statuses}{check})"
            ));
        }
        if q.sort != AssetSort::Registered {
            return self.sorted_assets(sql, &from, conds, q, limit).await;
        }
        let listing = Listing {
            cols: ASSET_COLS,
            from: &from,
            key,
            conds,
            cursor: q.cursor,
            limit,
        };
        self.fetch_page(sql, listing, rows::asset).await
    }

    async fn count_assets(&self) -> Result<i64> {
        self.pools
            .fetch_one(Sql::new("SELECT COUNT(*) AS n FROM assets"))
            .await?
            .get("n")
    }

    async fn asset_counts(&self, today: chrono::NaiveDate) -> Result<custodian_store::AssetCounts> {
        let mut out = custodian_store::AssetCounts::default();
        for (col, into) in [
            ("kind", &mut out.by_kind),
            ("status", &mut out.by_status),
            ("classification", &mut out.by_classification),
        ] {
            let sql = Sql::new(format!(
                "SELECT {col} AS k, COUNT(*) AS n FROM assets GROUP BY {col} ORDER BY n DESC, k"
            ));
            for r in self.pools.fetch_all(sql).await? {
                into.push((r.get("k")?, r.get("n")?));
            }
        }
        out.total = out.by_kind.iter().map(|(_, n)| n).sum();
        let mut sql = Sql::new("");
        let cond = format!(
            "SELECT COUNT(*) AS n FROM assets WHERE next_review_at < {} AND status <> 'disposed'",
            sql.arg(today)
        );
        sql.push(&cond);
        out.overdue = self.pools.fetch_one(sql).await?.get("n")?;
        Ok(out)
    }

    async fn count_assets_owned_by(&self, owners: &[Uuid]) -> Result<i64> {
        let mut n = 0;
        for chunk in owners.chunks(400) {
            let mut sql = Sql::new("SELECT COUNT(*) AS n FROM assets WHERE owner_id IN ");
            sql.push_list(chunk.iter().copied());
            let c: i64 = self.pools.fetch_one(sql).await?.get("n")?;
            n += c;
        }
        Ok(n)
    }

    async fn relations_of(&self, ids: &[Uuid]) -> Result<Vec<Relation>> {
        // In chunks, within either database's limit on arguments; a link between two
        // chunks is read twice and kept once.
        let mut out: Vec<Relation> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for chunk in ids.chunks(1000) {
            let mut sql = Sql::new(format!(
                "SELECT {} FROM relations WHERE from_id IN ",
                rows::RELATION_COLS
            ));
            sql.push_list(chunk.iter().copied());
            sql.push(" UNION SELECT ");
            sql.push(rows::RELATION_COLS);
            sql.push(" FROM relations WHERE to_id IN ");
            sql.push_list(chunk.iter().copied());
            for r in self.pools.fetch_rows(sql, rows::relation).await? {
                if seen.insert(r.id) {
                    out.push(r);
                }
            }
        }
        Ok(out)
    }

    async fn relation(&self, id: Uuid) -> Result<Option<Relation>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM relations WHERE id = $1",
            rows::RELATION_COLS
        ))
        .bind(id);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| rows::relation(&r))
            .transpose()
    }

    async fn disposal(&self, asset_id: Uuid) -> Result<Option<DisposalRecord>> {
        let sql = Sql::new("SELECT asset_id, method, performed_by, performed_at, certificate_ref, verified_by, notes FROM disposals WHERE asset_id = $1").bind(asset_id);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| rows::disposal(&r))
            .transpose()
    }

    async fn incidents(&self, asset_id: Uuid) -> Result<Vec<IncidentReport>> {
        let sql = Sql::new("SELECT asset_id, status, reported_at, incident_ref, notes FROM incidents WHERE asset_id = $1 ORDER BY seq").bind(asset_id);
        self.pools.fetch_rows(sql, rows::incident).await
    }

    async fn assets_by_id(&self, after: Option<Uuid>, limit: u32) -> Result<Vec<Asset>> {
        let mut sql = Sql::new(format!("SELECT {ASSET_COLS} FROM assets a"));
        if let Some(id) = after {
            let i = sql.arg(id);
            sql.push(&format!(" WHERE a.id > {i}"));
        }
        sql.push(&format!(" ORDER BY a.id LIMIT {}", limit.max(1)));
        self.fetch_assets(sql).await
    }

    async fn asset_owner_counts(&self) -> Result<Vec<(Uuid, i64)>> {
        let sql = Sql::new(
            "SELECT owner_id, COUNT(*) AS n FROM assets WHERE status <> 'disposed' \
             GROUP BY owner_id ORDER BY owner_id",
        );
        self.pools
            .fetch_rows(sql, |r| Ok((r.get("owner_id")?, r.get("n")?)))
            .await
    }

    async fn assets_by_number_nocase(&self, number: &str) -> Result<Vec<Asset>> {
        self.assets_by_number_nocase_sql(number).await
    }
}

impl SqlTx {
    /// Applies a change to assets, their disposal and incident records, and the links between them.
    pub(crate) async fn write_assets(&mut self, w: AssetWrite) -> Result<()> {
        match w {
            AssetWrite::InsertAsset(a) => self.insert_assets(std::slice::from_ref(&a)).await,
            AssetWrite::UpdateAsset {
                asset,
                expected_version,
            } => self.update_asset(&asset, expected_version).await,
            AssetWrite::InsertDisposal(d) => {
                let sql = rows::insert(
                    "disposals",
                    vec![
                        ("asset_id", d.asset_id.into()),
                        ("method", d.method.as_str().into()),
                        ("performed_by", d.performed_by.into()),
                        ("performed_at", d.performed_at.into()),
                        ("certificate_ref", d.certificate_ref.into()),
                        ("verified_by", d.verified_by.into()),
                        ("notes", d.notes.into()),
                    ],
                );
                self.conn.execute(sql).await.map(drop)
            }
            AssetWrite::SetIncidentRef {
                asset_id,
                incident_ref,
            } => {
                self.conn
                    .execute(
                        Sql::new("UPDATE incidents SET incident_ref = $1 WHERE asset_id = $2 AND incident_ref IS NULL")
                            .bind(incident_ref)
                            .bind(asset_id),
                    )
                    .await
                    .map(drop)
            }
            AssetWrite::InsertIncident(i) => {
                let sql = rows::insert(
                    "incidents",
                    vec![
                        ("asset_id", i.asset_id.into()),
                        ("status", i.status.as_str().into()),
                        ("reported_at", i.reported_at.into()),
                        ("incident_ref", i.incident_ref.into()),
                        ("notes", i.notes.into()),
                    ],
                );
                self.conn.execute(sql).await.map(drop)
            }
            AssetWrite::InsertRelation(r) => {
                let sql = rows::insert(
                    "relations",
                    vec![
                        ("id", r.id.into()),
                        ("from_id", r.from_id.into()),
                        ("to_id", r.to_id.into()),
                        ("type", r.relation_type.as_str().into()),
                        ("created_at", r.created_at.into()),
                    ],
                );
                self.conn.execute(sql).await.map(drop)
            }
            AssetWrite::DeleteRelation(id) => {
                let n = self
                    .conn
                    .execute(Sql::new("DELETE FROM relations WHERE id = $1").bind(id))
                    .await?;
                if n == 0 {
                    return Err(StoreError::NotFound {
                        entity: "relation",
                        id: id.to_string(),
                    });
                }
                Ok(())
            }
        }
    }
}
