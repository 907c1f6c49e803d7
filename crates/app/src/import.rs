//! Importing assets: streamed, validated by the same rules as the API, all-or-nothing.
//!
//! Rows are read in chunks and written inside one transaction. Every bad row is reported
//! by number and field; if any row is bad, or on a dry run, the transaction is rolled back
//! and nothing is stored.

use std::collections::{HashMap, HashSet, VecDeque};

use serde_json::{Map, Value};
use uuid::Uuid;

use custodian_domain::asset::{self, Asset, AssetDraft};
use custodian_domain::audit::NewEvent;
use custodian_domain::party::PartyKind;
use custodian_domain::value;
use custodian_store::AssetWrite;
use custodian_store::{ChangeSet, MatchKey, PartyRef, Write};

use crate::{App, AppError, Ctx, Result};

/// Rows validated and written together.
const CHUNK: usize = 2000;
/// Asset numbers reserved at a time during an import.
const NUMBER_BLOCK: usize = 10 * CHUNK;
/// Errors kept in a report (the count goes on).
const MAX_ERRORS: usize = 10_000;

/// How to import.
#[derive(Clone, Copy, Debug, Default)]
pub struct ImportOptions {
    /// Update the asset whose key matches instead of creating a new one.
    pub match_key: Option<MatchKey>,
    /// Validate and report, store nothing.
    pub dry_run: bool,
}

/// One problem with one row.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    /// The row's number in the file (the header is row 1 in CSV, the first line 1 in JSON Lines).
    pub row: u64,
    /// The field (column) concerned.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// What an import did, or would do.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ImportReport {
    /// Rows read.
    pub rows: u64,
    /// Assets created (or that would be).
    pub created: u64,
    /// Assets changed (or that would be).
    pub updated: u64,
    /// Rows that matched an asset and changed nothing.
    pub unchanged: u64,
    /// Problems, by row.
    pub errors: Vec<RowError>,
    /// Problems beyond those listed.
    pub errors_not_listed: u64,
    /// For updates: the row, the asset number and the fields that change (first 1,000).
    pub changes: Vec<(u64, String, Vec<String>)>,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// Whether the changes were stored.
    pub committed: bool,
}

impl ImportReport {
    fn error(&mut self, row: u64, field: impl Into<String>, message: impl Into<String>) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(RowError {
                row,
                field: field.into(),
                message: message.into(),
            });
        } else {
            self.errors_not_listed += 1;
        }
    }

    /// Whether any row was bad.
    pub fn failed(&self) -> bool {
        !self.errors.is_empty() || self.errors_not_listed > 0
    }
}

/// Resolves a party given by id, e-mail or name.
struct Directory {
    by_id: HashMap<Uuid, PartyKind>,
    by_email: HashMap<String, Uuid>,
    by_name: HashMap<String, Vec<Uuid>>,
}

impl Directory {
    fn new(refs: Vec<PartyRef>) -> Self {
        let mut d = Directory {
            by_id: HashMap::new(),
            by_email: HashMap::new(),
            by_name: HashMap::new(),
        };
        for r in refs {
            d.by_id.insert(r.id, r.kind);
            if let Some(e) = r.email {
                d.by_email.insert(e.to_lowercase(), r.id);
            }
            d.by_name
                .entry(r.name.to_lowercase())
                .or_default()
                .push(r.id);
        }
        d
    }

    fn resolve(&self, v: &Value, person_only: bool) -> std::result::Result<Uuid, String> {
        let Some(s) = v.as_str().map(str::trim) else {
            return Err(format!(
                "must be an id, an e-mail address or a name, not {}",
                value::type_name(v)
            ));
        };
        let id = if let Ok(id) = Uuid::parse_str(s) {
            if !self.by_id.contains_key(&id) {
                return Err(format!("no person, team or role has the id {id}"));
            }
            id
        } else if let Some(id) = self.by_email.get(&s.to_lowercase()) {
            *id
        } else {
            match self.by_name.get(&s.to_lowercase()).map(Vec::as_slice) {
                Some([id]) => *id,
                Some(many) => {
                    return Err(format!(
                        "{} parties are named {s:?}: give the e-mail address or the id",
                        many.len()
                    ))
                }
                None => {
                    return Err(format!(
                        "no person, team or role has the e-mail address or name {s:?}"
                    ))
                }
            }
        };
        if person_only && self.by_id.get(&id) != Some(&PartyKind::Person) {
            return Err(format!("{s:?} is not a person"));
        }
        Ok(id)
    }
}

fn key_values(key: MatchKey, row: &Map<String, Value>) -> Vec<String> {
    let s = |k: &str| {
        row.get(k)
            .and_then(Value::as_str)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    match key {
        MatchKey::AssetNumber => s("asset_number").into_iter().collect(),
        MatchKey::SerialNumber => s("serial_number").into_iter().collect(),
        // The same id may be written in upper or lower case.
        MatchKey::Id => s("id")
            .map(|v| Uuid::parse_str(&v).map_or(v, |u| u.to_string()))
            .into_iter()
            .collect(),
        MatchKey::ExternalId => match row.get("external_ids") {
            Some(Value::Object(o)) => o
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}:{v}")))
                .collect(),
            _ => vec![],
        },
    }
}

fn key_of(key: MatchKey, a: &Asset) -> Vec<String> {
    match key {
        MatchKey::AssetNumber => vec![a.asset_number.clone()],
        MatchKey::SerialNumber => a
            .attr_str("serial_number")
            .map(String::from)
            .into_iter()
            .collect(),
        MatchKey::Id => vec![a.id.to_string()],
        MatchKey::ExternalId => a
            .external_ids
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}:{v}")))
            .collect(),
    }
}

impl App {
    /// Imports rows of assets (`(row number, fields)`; a row that could not be read is an error).
    pub async fn import_assets<I>(
        &self,
        ctx: &Ctx,
        rows: I,
        opts: ImportOptions,
    ) -> Result<ImportReport>
    where
        I: Iterator<Item = (u64, std::result::Result<Map<String, Value>, RowError>)> + Send,
    {
        self.allow(ctx, custodian_domain::access::Action::Import)
            .await?;
        let scheme = self.scheme().await?;
        let prefix = self.settings.asset_number_prefix.clone();
        let actx = scheme.ctx(&prefix);
        let dir = Directory::new(self.store.party_directory().await?);
        let mut locations: HashSet<Uuid> = HashSet::new();
        let mut cursor = None;
        loop {
            let p = self.store.list_locations(500, cursor).await?;
            locations.extend(p.items.iter().map(|l| l.id));
            match p.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let today = chrono::Utc::now().date_naive();
        let mut report = ImportReport {
            dry_run: opts.dry_run,
            ..Default::default()
        };
        let mut seen_numbers: HashMap<String, u64> = HashMap::new();
        let mut seen_keys: HashMap<String, u64> = HashMap::new();
        // Writes run behind the validation of the next chunk; lookups read what is
        // committed, and this import's own rows are tracked in `seen_numbers`/`seen_keys`.
        let mut tx = self.store.begin_bulk().await?;
        let mut fresh: VecDeque<String> = VecDeque::new();
        let mut auto_numbered: HashSet<String> = HashSet::new();
        let mut rows = rows.peekable();
        while rows.peek().is_some() {
            let chunk: Vec<_> = rows.by_ref().take(CHUNK).collect();
            report.rows += chunk.len() as u64;
            // 1. Read each row: resolve parties given by e-mail or name, note keys.
            let mut good: Vec<(u64, Map<String, Value>)> = Vec::with_capacity(chunk.len());
            for (n, r) in chunk {
                let mut row = match r {
                    Ok(row) => row,
                    Err(e) => {
                        report.error(e.row, e.field, e.message);
                        continue;
                    }
                };
                let mut ok = true;
                for (field, person_only) in [("owner_id", false), ("last_reviewed_by", true)] {
                    if let Some(v) = row.get(field).filter(|v| !v.is_null()) {
                        match dir.resolve(v, person_only) {
                            Ok(id) => {
                                row.insert(field.into(), Value::String(id.to_string()));
                            }
                            Err(m) => {
                                report.error(n, field, m);
                                ok = false;
                            }
                        }
                    }
                }
                if let Some(l) = row.get("location_id").filter(|v| !v.is_null()) {
                    match value::id(l) {
                        Ok(id) if locations.contains(&id) => {}
                        Ok(id) => {
                            report.error(n, "location_id", format!("no location has the id {id}"));
                            ok = false;
                        }
                        Err(_) => {} // reported by validation below
                    }
                }
                if let Some(k) = opts.match_key {
                    for v in key_values(k, &row) {
                        if let Some(first) = seen_keys.insert(v.clone(), n) {
                            report.error(n, match_field(k), format!("{v} appears again (first at row {first}): each asset once per import"));
                            ok = false;
                        }
                    }
                }
                if ok {
                    good.push((n, row));
                }
            }
            // 2. Find the assets the rows match, and numbers already taken.
            let mut existing: HashMap<String, Asset> = HashMap::new();
            if let Some(k) = opts.match_key {
                let values: Vec<String> = good.iter().flat_map(|(_, r)| key_values(k, r)).collect();
                for a in self.store.find_assets(k, &values).await? {
                    for v in key_of(k, &a) {
                        existing.insert(v, a.clone());
                    }
                }
            }
            let numbers: Vec<String> = good
                .iter()
                .filter_map(|(_, r)| {
                    r.get("asset_number")
                        .and_then(Value::as_str)
                        .map(|s| s.trim().to_string())
                })
                .collect();
            let taken: HashSet<String> = self
                .store
                .taken_asset_numbers(&numbers)
                .await?
                .into_iter()
                .collect();
            // 3. Validate each row as the API would, and plan its write.
            let now = custodian_domain::now();
            let mut cs = ChangeSet::default();
            let mut new_drafts: Vec<(u64, AssetDraft)> = Vec::new();
            for (n, row) in good {
                let matched = opts.match_key.and_then(|k| {
                    key_values(k, &row)
                        .iter()
                        .find_map(|v| existing.get(v))
                        .cloned()
                });
                if let Some(cur) = matched {
                    let mut patch = row.clone();
                    for k in asset::READ_ONLY_FIELDS {
                        patch.remove(*k);
                    }
                    match cur.patched(&patch, &actx, now) {
                        Err(p) => {
                            p.0.into_iter()
                                .for_each(|e| report.error(n, e.field, e.message))
                        }
                        Ok(mut next) => {
                            if next.asset_number != cur.asset_number {
                                let num = next.asset_number.clone();
                                if taken.contains(&num) {
                                    report.error(
                                        n,
                                        "asset_number",
                                        format!("{num} is already used by another asset"),
                                    );
                                    continue;
                                }
                                if let Some(first) = seen_numbers.insert(num.clone(), n) {
                                    report.error(
                                        n,
                                        "asset_number",
                                        numbered_twice(&num, first, &auto_numbered),
                                    );
                                    continue;
                                }
                            }
                            let changes = self.asset_changes(&cur, &mut next)?;
                            if changes.is_empty() {
                                report.unchanged += 1;
                                continue;
                            }
                            report.updated += 1;
                            if report.changes.len() < 1000 {
                                report.changes.push((
                                    n,
                                    cur.asset_number.clone(),
                                    changes.keys().cloned().collect(),
                                ));
                            }
                            cs.events.push(NewEvent::new(
                                &ctx.actor,
                                "asset.updated",
                                "asset",
                                cur.id,
                                Value::Object(changes),
                                ctx.request_id.as_deref(),
                                now,
                            ));
                            cs.writes.push(Write::Asset(AssetWrite::UpdateAsset {
                                asset: Box::new(next),
                                expected_version: cur.version,
                            }));
                        }
                    }
                    continue;
                }
                match AssetDraft::parse(&row, &actx) {
                    Err(p) => {
                        p.0.into_iter()
                            .for_each(|e| report.error(n, e.field, e.message))
                    }
                    Ok(mut d) => {
                        if let Some(num) = &d.asset_number {
                            if let Some(first) = seen_numbers.insert(num.clone(), n) {
                                report.error(
                                    n,
                                    "asset_number",
                                    numbered_twice(num, first, &auto_numbered),
                                );
                                continue;
                            }
                            if taken.contains(num) {
                                let hint = if opts.match_key.is_none() {
                                    " (import with --match asset_number to update it)"
                                } else {
                                    ""
                                };
                                report.error(
                                    n,
                                    "asset_number",
                                    format!("{num} is already used by another asset{hint}"),
                                );
                                continue;
                            }
                        }
                        match scheme.level(&d.classification) {
                            Ok(level) => Self::default_review(&mut d, level, today),
                            Err(_) => continue,
                        }
                        new_drafts.push((n, d));
                    }
                }
            }
            if report.failed() {
                continue; // keep validating the rest; nothing will be stored
            }
            let need = new_drafts
                .iter()
                .filter(|(_, d)| d.asset_number.is_none())
                .count();
            // Reserved numbers a row of this import gave by hand will be skipped.
            let usable = fresh
                .iter()
                .filter(|n| !seen_numbers.contains_key(*n))
                .count();
            if usable < need {
                // A block at a time, so that reserving seldom waits for the writes queued.
                let more = tx
                    .reserve_asset_numbers(&prefix, (need - usable).max(NUMBER_BLOCK))
                    .await?;
                fresh.extend(more);
            }
            for (row, d) in new_drafts {
                let number = match d.asset_number.clone() {
                    Some(n) => n,
                    // Skip a reserved number that a row of this import gave by hand.
                    None => std::iter::from_fn(|| fresh.pop_front())
                        .find(|n| !seen_numbers.contains_key(n))
                        .ok_or_else(|| AppError::Internal("no asset number reserved".into()))?,
                };
                let a = d.into_asset(custodian_domain::new_id(), number, now);
                let a = self.stage_new_asset(ctx, &mut cs, a, now)?;
                seen_numbers.insert(a.asset_number.clone(), row);
                auto_numbered.insert(a.asset_number.clone());
                report.created += 1;
            }
            if !cs.events.is_empty() {
                if let Err(e) = tx.apply(cs).await {
                    // A constraint the checks above did not foresee: report it and store nothing.
                    report.error(0, "", format!("the database refused the import: {e}"));
                }
            }
        }
        // Within a chunk, rows that could not be read are found before rows that do not
        // validate; list them in file order.
        report.errors.sort_by_key(|e| e.row);
        let finished = if report.failed() || opts.dry_run {
            tx.rollback().await
        } else {
            // Give back the numbers reserved and not used, so that numbering goes on without a gap.
            match tx.release_asset_numbers(&prefix, fresh.len()).await {
                Ok(()) => tx.commit().await.map(|()| report.committed = true),
                Err(e) => {
                    let _ = tx.rollback().await;
                    Err(e)
                }
            }
        };
        if let Err(e) = finished {
            // A constraint the checks above did not foresee: nothing is stored.
            report.error(0, "", format!("the database refused the import: {e}"));
        }
        if report.failed() {
            report.created = 0;
            report.updated = 0;
        }
        Ok(report)
    }
}

/// Why a number cannot be used twice in one import.
fn numbered_twice(num: &str, first: u64, auto: &HashSet<String>) -> String {
    if auto.contains(num) {
        format!("{num} was given automatically to row {first} of this import: choose another number, or leave it empty")
    } else {
        format!("{num} appears again (first at row {first})")
    }
}

fn match_field(k: MatchKey) -> &'static str {
    match k {
        MatchKey::AssetNumber => "asset_number",
        MatchKey::SerialNumber => "serial_number",
        MatchKey::Id => "id",
        MatchKey::ExternalId => "external_ids",
    }
}
