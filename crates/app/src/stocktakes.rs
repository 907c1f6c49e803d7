//! Stocktakes (SPEC §6.7; ISO/IEC 27001 A.5.9): a session at a location; every entry
//! scanned or typed is kept, the assets it names are marked checked, and the report says
//! what was found, what is missing, what turned up unexpectedly and what matched nothing.

use serde_json::{json, Map, Value};
use uuid::Uuid;

use custodian_domain::access::Action;
use custodian_domain::asset::Asset;
use custodian_domain::audit::{self, NewEvent};
use custodian_domain::input::Input;
use custodian_domain::lifecycle::Status;
use custodian_domain::stocktake::{
    check_is_review, scan_input, Entry, ReportSection, ScanResult, Stocktake, StocktakeScan,
    StocktakeStatus,
};
use custodian_domain::value;
use custodian_store::{AssetWrite, StocktakeWrite};
use custodian_store::{
    ChangeSet, Cursor, MatchKey, Page, ScanQuery, StocktakeCounts, StocktakeQuery, StoreError,
    Write,
};

use crate::Precondition;
use crate::{check_version, race, App, AppError, Ctx, Result};

/// The most lines of one section a report answers at once.
pub const MAX_SECTION: u32 = 500;

fn view(t: &Stocktake) -> Map<String, Value> {
    match serde_json::to_value(t) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// What a scan came to: the scan (the earlier one when the asset had been scanned in this
/// stocktake already) and the asset it named.
#[derive(Clone, Debug)]
pub struct ScanOutcome {
    /// The scan.
    pub scan: StocktakeScan,
    /// The asset, as it is after the scan.
    pub asset: Option<Asset>,
    /// Whether the asset had been scanned before in this stocktake.
    pub repeat: bool,
}

/// A line of a report: a scan, an asset, or both.
#[derive(Clone, Debug)]
pub struct ReportLine {
    /// The scan (none for a missing asset).
    pub scan: Option<StocktakeScan>,
    /// The asset (none for an unknown entry).
    pub asset: Option<Asset>,
}

/// A line of a report as the API shows it: the asset's number, name, kind, status and
/// location, and the scan.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
#[schemars(rename = "StocktakeLine")]
pub struct LineView {
    /// The asset (none for an entry that matched nothing).
    pub asset_id: Option<Uuid>,
    /// Its number.
    pub asset_number: Option<String>,
    /// Its name.
    pub name: Option<String>,
    /// Its kind.
    pub kind: Option<custodian_domain::asset::AssetKind>,
    /// Its lifecycle status.
    pub status: Option<Status>,
    /// Where the register has it now.
    pub location_id: Option<Uuid>,
    /// The scan (none for a missing asset).
    pub scan_id: Option<Uuid>,
    /// What was scanned or typed.
    pub entered: Option<String>,
    /// When.
    pub scanned_at: Option<value::Timestamp>,
    /// By whom.
    pub scanned_by: Option<Uuid>,
    /// Where the register had the asset when it was scanned.
    pub registered_location_id: Option<Uuid>,
}

impl ReportLine {
    /// The line as the API shows it.
    pub fn view(&self) -> LineView {
        let a = self.asset.as_ref();
        let s = self.scan.as_ref();
        LineView {
            asset_id: a.map(|a| a.id),
            asset_number: a.map(|a| a.asset_number.clone()),
            name: a.map(|a| a.name.clone()),
            kind: a.map(|a| a.kind),
            status: a.map(|a| a.status),
            location_id: a.and_then(|a| a.location_id),
            scan_id: s.map(|s| s.id),
            entered: s.map(|s| s.entered.clone()),
            scanned_at: s.map(|s| (&s.scanned_at).into()),
            scanned_by: s.and_then(|s| s.scanned_by),
            registered_location_id: s.and_then(|s| s.registered_location_id),
        }
    }
}

/// One section of a report, one page long.
#[derive(Clone, Debug)]
pub struct ReportPart {
    /// Which.
    pub section: ReportSection,
    /// Its lines.
    pub lines: Vec<ReportLine>,
    /// Where its next page starts.
    pub next_cursor: Option<Cursor>,
}

/// A stocktake's report: the counts and a page of each section asked for.
#[derive(Clone, Debug)]
pub struct StocktakeReport {
    /// The stocktake.
    pub stocktake: Stocktake,
    /// How it adds up.
    pub counts: StocktakeCounts,
    /// The sections, in the order found, missing, unexpected, unknown.
    pub parts: Vec<ReportPart>,
}

/// How a stocktake adds up.
#[derive(Clone, Copy, Debug, serde::Serialize, schemars::JsonSchema)]
#[schemars(rename = "StocktakeCounts")]
pub struct CountsView {
    /// Assets expected at the location: found plus missing.
    pub expected: i64,
    /// Expected assets scanned.
    pub found: i64,
    /// Expected assets not scanned.
    pub missing: i64,
    /// Assets scanned that were not expected here.
    pub unexpected: i64,
    /// Entries that matched no asset.
    pub unknown: i64,
}

/// A report as the API shows it: the counts, and a page of each section asked for.
/// Missing are the assets at the location (and the places inside it) that are not
/// disposed, lost or stolen and were not scanned: as of now while the stocktake is open,
/// as fixed at closing once it is closed.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
#[schemars(rename = "StocktakeReport")]
pub struct ReportView {
    /// The stocktake.
    pub stocktake: Stocktake,
    /// How it adds up.
    pub counts: CountsView,
    /// Expected and scanned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<Vec<LineView>>,
    /// Expected and not scanned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<Vec<LineView>>,
    /// Scanned, and not expected here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unexpected: Option<Vec<LineView>>,
    /// Scanned, and matching no asset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown: Option<Vec<LineView>>,
    /// Per section with more lines: the cursor of its next page (ask with `section` and
    /// `cursor`).
    pub next_cursor: std::collections::BTreeMap<String, String>,
}

impl StocktakeReport {
    /// The report as the API shows it.
    pub fn view(&self) -> ReportView {
        let c = self.counts;
        let mut v = ReportView {
            stocktake: self.stocktake.clone(),
            counts: CountsView {
                expected: c.expected,
                found: c.found,
                missing: c.missing,
                unexpected: c.unexpected,
                unknown: c.unknown,
            },
            found: None,
            missing: None,
            unexpected: None,
            unknown: None,
            next_cursor: Default::default(),
        };
        for p in &self.parts {
            let lines = Some(p.lines.iter().map(ReportLine::view).collect());
            match p.section {
                ReportSection::Found => v.found = lines,
                ReportSection::Missing => v.missing = lines,
                ReportSection::Unexpected => v.unexpected = lines,
                ReportSection::Unknown => v.unknown = lines,
            }
            if let Some(c) = p.next_cursor {
                v.next_cursor.insert(p.section.as_str().into(), c.encode());
            }
        }
        v
    }
}

/// A scan as the API shows it: the scan (the earlier one when the asset had been scanned
/// in this stocktake already), whether it was, and the asset as it is after the scan. A
/// found or unexpected device is marked checked (its last review, and its next one moves
/// on); an entry that matches nothing is kept as unknown.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
#[schemars(rename = "StocktakeScan")]
pub struct ScanView {
    #[serde(flatten)]
    pub scan: StocktakeScan,
    /// Whether the asset had been scanned before in this stocktake.
    pub repeat: bool,
    /// The asset scanned, as it is now.
    pub asset: Option<ScannedAsset>,
}

/// The asset a scan named.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
pub struct ScannedAsset {
    /// Identifier.
    pub id: Uuid,
    /// Its number.
    pub asset_number: String,
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: custodian_domain::asset::AssetKind,
    /// Its lifecycle status.
    pub status: Status,
    /// Where the register has it.
    pub location_id: Option<Uuid>,
    /// When it was last checked.
    pub last_reviewed_at: Option<value::Timestamp>,
    /// By whom.
    pub last_reviewed_by: Option<Uuid>,
}

impl ScanOutcome {
    /// The scan as the API shows it.
    pub fn view(&self) -> ScanView {
        ScanView {
            scan: self.scan.clone(),
            repeat: self.repeat,
            asset: self.asset.as_ref().map(|a| ScannedAsset {
                id: a.id,
                asset_number: a.asset_number.clone(),
                name: a.name.clone(),
                kind: a.kind,
                status: a.status,
                location_id: a.location_id,
                last_reviewed_at: a.last_reviewed_at.as_ref().map(value::Timestamp::from),
                last_reviewed_by: a.last_reviewed_by,
            }),
        }
    }
}

impl App {
    async fn load_stocktake(&self, id: Uuid) -> Result<Stocktake> {
        self.store
            .stocktake(id)
            .await?
            .ok_or_else(|| AppError::not_found("stocktake", id))
    }

    /// Starts a stocktake at a location (admins and managers).
    pub async fn start_stocktake(&self, ctx: &Ctx, body: Map<String, Value>) -> Result<Stocktake> {
        self.allow(ctx, Action::RunStocktakes).await?;
        let now = custodian_domain::now();
        let me = ctx.principal().and_then(|p| p.person_id);
        let t = Stocktake::from_input(&body, me, now)?;
        if self.store.location(t.location_id).await?.is_none() {
            return Err(AppError::invalid(
                "location_id",
                format!("no location has the id {}", t.location_id),
            ));
        }
        self.write_created(
            ctx,
            "stocktake",
            &t.id.to_string(),
            &view(&t),
            Write::Stocktake(StocktakeWrite::InsertStocktake(Box::new(t.clone()))),
            now,
        )
        .await?;
        Ok(t)
    }

    /// One stocktake (whoever reads the whole register).
    pub async fn get_stocktake(&self, ctx: &Ctx, id: Uuid) -> Result<Stocktake> {
        self.allow(ctx, Action::ReadRegister).await?;
        self.load_stocktake(id).await
    }

    /// A page of stocktakes, newest first.
    pub async fn list_stocktakes(&self, ctx: &Ctx, q: StocktakeQuery) -> Result<Page<Stocktake>> {
        self.allow(ctx, Action::ReadRegister).await?;
        Ok(self.store.list_stocktakes(&q).await?)
    }

    /// The asset an entry names: by id (a label's link or a bare id), else by number
    /// exactly, else by number whatever its case when only one asset has it.
    async fn asset_for_entry(&self, entry: &Entry) -> Result<Option<Asset>> {
        Ok(match entry {
            Entry::Id(id) => self.store.asset(*id).await?,
            Entry::Number(n) => match self.store.asset_by_number(n).await? {
                Some(a) => Some(a),
                None => {
                    let mut found = self.store.assets_by_number_nocase(n).await?;
                    if found.len() == 1 {
                        found.pop()
                    } else {
                        None
                    }
                }
            },
        })
    }

    /// The earlier scan of an asset in a stocktake, if there is one.
    async fn earlier_scan(&self, stocktake: Uuid, asset: Uuid) -> Result<Option<StocktakeScan>> {
        let q = ScanQuery {
            limit: 1,
            stocktake_id: stocktake,
            asset_id: Some(asset),
            ..Default::default()
        };
        Ok(self.store.list_stocktake_scans(&q).await?.items.pop())
    }

    /// One scan of a stocktake, with the asset it named as it is now.
    pub async fn stocktake_scan(
        &self,
        ctx: &Ctx,
        stocktake: Uuid,
        id: Uuid,
    ) -> Result<(StocktakeScan, Option<Asset>)> {
        self.allow(ctx, Action::ReadRegister).await?;
        let q = ScanQuery {
            limit: 1,
            stocktake_id: stocktake,
            id: Some(id),
            ..Default::default()
        };
        let scan = self
            .store
            .list_stocktake_scans(&q)
            .await?
            .items
            .pop()
            .ok_or_else(|| AppError::not_found("scan", id))?;
        let asset = match scan.asset_id {
            Some(a) => self.store.asset(a).await?,
            None => None,
        };
        Ok((scan, asset))
    }

    /// Records an entry scanned or typed in an open stocktake (admins and managers). An
    /// expected asset is found, another asset of the register unexpected, anything else
    /// unknown; each is kept for the report. A found or unexpected device is checked: last
    /// checked now, by the scanning person, and its next review moves on as a review's
    /// would. An asset scanned twice counts once: the second scan answers the first.
    pub async fn scan_stocktake(
        &self,
        ctx: &Ctx,
        id: Uuid,
        body: Map<String, Value>,
    ) -> Result<ScanOutcome> {
        self.allow(ctx, Action::RunStocktakes).await?;
        let (entered, entry) = scan_input(&body)?;
        let t = self.load_stocktake(id).await?;
        if t.status != StocktakeStatus::Open {
            return Err(AppError::Conflict {
                message: "this stocktake is closed: nothing more is scanned in it; start a new one to count again".into(),
                field: Some("status".into()),
            });
        }
        let Some(me) = ctx.principal().and_then(|p| p.person_id) else {
            return Err(AppError::invalid(
                "entry",
                "a check is recorded in a person's name, and this account is not linked to a person",
            ));
        };
        let asset = self.asset_for_entry(&entry).await?;
        if let Some(a) = &asset {
            if let Some(earlier) = self.earlier_scan(t.id, a.id).await? {
                return Ok(ScanOutcome {
                    scan: earlier,
                    asset: Some(a.clone()),
                    repeat: true,
                });
            }
        }
        let now = custodian_domain::now();
        let result = match &asset {
            None => ScanResult::Unknown,
            Some(a) => {
                let area = if t.include_sublocations {
                    self.store.location_subtree(t.location_id).await?
                } else {
                    vec![t.location_id]
                };
                let in_area = a.location_id.is_some_and(|l| area.contains(&l));
                t.result_for(a.status, in_area)
            }
        };
        let scan = StocktakeScan {
            id: custodian_domain::new_id(),
            stocktake_id: t.id,
            asset_id: asset.as_ref().map(|a| a.id),
            entered,
            scanned_at: now,
            scanned_by: Some(me),
            result,
            registered_location_id: asset.as_ref().and_then(|a| a.location_id),
        };
        let mut cs = ChangeSet::default();
        cs.writes
            .push(Write::Stocktake(StocktakeWrite::InsertStocktakeScan(
                Box::new(scan.clone()),
            )));
        cs.events.push(NewEvent::new(
            &ctx.actor,
            "stocktake.scanned",
            "stocktake",
            t.id,
            json!({"scan_id": scan.id, "entered": scan.entered, "result": scan.result,
                "asset_id": scan.asset_id}),
            ctx.request_id.as_deref(),
            now,
        ));
        let mut after = asset.clone();
        if let Some(a) = asset
            .as_ref()
            .filter(|a| check_is_review(a.kind) && a.status != Status::Disposed)
        {
            let scheme = self.scheme().await?;
            let level = scheme.level(&a.classification)?;
            let next = a.reviewed(me, now, level.review_interval_days);
            let mut changes = audit::diff(&a.audit_view(), &next.audit_view());
            changes.insert("stocktake_id".into(), json!(t.id));
            changes.insert("result".into(), json!(result));
            cs.events.push(NewEvent::new(
                &ctx.actor,
                "asset.checked",
                "asset",
                a.id,
                Value::Object(changes),
                ctx.request_id.as_deref(),
                now,
            ));
            cs.writes.push(Write::Asset(AssetWrite::UpdateAsset {
                asset: Box::new(next.clone()),
                expected_version: a.version,
            }));
            after = Some(next);
        }
        match self.store.commit(cs).await {
            Ok(()) => Ok(ScanOutcome {
                scan,
                asset: after,
                repeat: false,
            }),
            // Scanned at the same moment elsewhere: the other scan counts.
            Err(StoreError::Duplicate { .. }) if asset.is_some() => {
                let a = asset.ok_or_else(|| AppError::not_found("asset", ""))?;
                match self.earlier_scan(t.id, a.id).await? {
                    Some(earlier) => Ok(ScanOutcome {
                        scan: earlier,
                        asset: self.store.asset(a.id).await?,
                        repeat: true,
                    }),
                    None => Err(AppError::Conflict {
                        message: "the scan collided with another: scan again".into(),
                        field: Some("entry".into()),
                    }),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Closes a stocktake (admins and managers): its missing assets are fixed as they are
    /// now, and nothing more is scanned in it.
    pub async fn close_stocktake(
        &self,
        ctx: &Ctx,
        id: Uuid,
        body: Map<String, Value>,
        if_match: Precondition,
    ) -> Result<Stocktake> {
        self.allow(ctx, Action::RunStocktakes).await?;
        let mut r = Input::new(&body);
        r.reject_unknown(&["notes", "version"], &[], "closing a stocktake");
        let notes = r.optional("notes", |v| value::text(v, 4000)).flatten();
        if !r.problems.is_empty() {
            return Err(AppError::Invalid(r.problems));
        }
        let cur = self.load_stocktake(id).await?;
        check_version("stocktake", id, &if_match, cur.version)?;
        let now = custodian_domain::now();
        let me = ctx.principal().and_then(|p| p.person_id);
        let next = cur.close(me, notes, now)?;
        let counts = self.store.stocktake_counts(&cur).await?;
        let mut changes = audit::diff(&view(&cur), &view(&next));
        changes.insert(
            "counts".into(),
            json!({"expected": counts.expected, "found": counts.found, "missing": counts.missing,
                "unexpected": counts.unexpected, "unknown": counts.unknown}),
        );
        let ev = NewEvent::new(
            &ctx.actor,
            "stocktake.closed",
            "stocktake",
            id,
            Value::Object(changes),
            ctx.request_id.as_deref(),
            now,
        );
        self.store
            .commit(ChangeSet::one(
                Write::Stocktake(StocktakeWrite::CloseStocktake {
                    stocktake: Box::new(next.clone()),
                    expected_version: cur.version,
                }),
                ev,
            ))
            .await
            .map_err(|e| race(e, &if_match))?;
        Ok(next)
    }

    /// A stocktake's report: the counts, and a page (`limit` lines) of every section, or,
    /// with `only`, of that section from `cursor` on.
    pub async fn stocktake_report(
        &self,
        ctx: &Ctx,
        id: Uuid,
        only: Option<ReportSection>,
        limit: u32,
        cursor: Option<Cursor>,
    ) -> Result<StocktakeReport> {
        self.allow(ctx, Action::ReadRegister).await?;
        let t = self.load_stocktake(id).await?;
        let counts = self.store.stocktake_counts(&t).await?;
        let limit = limit.clamp(1, MAX_SECTION);
        let mut parts = Vec::new();
        for section in ReportSection::ALL {
            if only.is_some_and(|o| o != *section) {
                continue;
            }
            let cursor = if only.is_some() { cursor } else { None };
            parts.push(self.report_part(&t, *section, limit, cursor).await?);
        }
        Ok(StocktakeReport {
            stocktake: t,
            counts,
            parts,
        })
    }

    async fn report_part(
        &self,
        t: &Stocktake,
        section: ReportSection,
        limit: u32,
        cursor: Option<Cursor>,
    ) -> Result<ReportPart> {
        let result = match section {
            ReportSection::Missing => {
                let page = self.store.stocktake_missing(t, limit, cursor).await?;
                return Ok(ReportPart {
                    section,
                    lines: page
                        .items
                        .into_iter()
                        .map(|a| ReportLine {
                            scan: None,
                            asset: Some(a),
                        })
                        .collect(),
                    next_cursor: page.next_cursor,
                });
            }
            ReportSection::Found => ScanResult::Found,
            ReportSection::Unexpected => ScanResult::Unexpected,
            ReportSection::Unknown => ScanResult::Unknown,
        };
        let q = ScanQuery {
            limit,
            cursor,
            stocktake_id: t.id,
            result: Some(result),
            ..Default::default()
        };
        let page = self.store.list_stocktake_scans(&q).await?;
        let ids: Vec<String> = page
            .items
            .iter()
            .filter_map(|s| s.asset_id.map(|a| a.to_string()))
            .collect();
        let assets = if ids.is_empty() {
            vec![]
        } else {
            self.store.find_assets(MatchKey::Id, &ids).await?
        };
        Ok(ReportPart {
            section,
            lines: page
                .items
                .into_iter()
                .map(|s| ReportLine {
                    asset: s
                        .asset_id
                        .and_then(|id| assets.iter().find(|a| a.id == id).cloned()),
                    scan: Some(s),
                })
                .collect(),
            next_cursor: page.next_cursor,
        })
    }
}
