//! The state of the register at a glance: how it divides, what is overdue, which assets
//! have no accountable owner any more.

use std::collections::HashMap;

use uuid::Uuid;

use chrono::{DateTime, Utc};
use custodian_domain::access::Action;
use custodian_domain::party::{orphan_reason, Party, PartyKind, PersonStatus};
use custodian_store::{AssetCounts, AssetQuery, PartyQuery};

use crate::{App, Ctx, Result};

/// Registers up to this size are summed up on every request; larger ones in the
/// background, at most every [`SUMMARY_EVERY`], and shown with when.
pub const COUNT_NOW_UP_TO: i64 = 20_000;
/// How old the summary of a large register may grow before another is started.
pub const SUMMARY_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// The last summary of a large register, and whether another is being made.
#[derive(Clone, Debug, Default)]
pub struct SummaryCache {
    pub(crate) last: Option<RegisterSummary>,
    /// When a background summary started, while it runs.
    running_since: Option<std::time::Instant>,
}

/// The register's state, for those who read all of it.
#[derive(Clone, Debug)]
pub struct RegisterSummary {
    /// Counts by kind, status and classification, and overdue reviews.
    pub counts: AssetCounts,
    /// Records that lack what the policy asks of their kind.
    pub incomplete: i64,
    /// Assets whose owner cannot be accountable (left, empty team, vacant role).
    pub orphaned: i64,
    /// The owners concerned, with why.
    pub orphan_owners: Vec<(Party, &'static str)>,
    /// When it was summed up.
    pub at: DateTime<Utc>,
}

impl App {
    /// The state of the register (managers, admins and auditors). A large register's is
    /// the last one made in the background (`None` while the first is being made).
    pub async fn register_summary(&self, ctx: &Ctx) -> Result<Option<RegisterSummary>> {
        self.allow(ctx, Action::ReadRegister).await?;
        let cached = self.summary.lock().ok().and_then(|c| c.last.clone());
        let total = match &cached {
            Some(s) => s.counts.total,
            None => self.store.count_assets().await?,
        };
        if total <= self.settings.count_incomplete_now_up_to {
            let s = self.sum_up().await?;
            if let Ok(mut c) = self.summary.lock() {
                c.last = Some(s.clone());
            }
            return Ok(Some(s));
        }
        self.sum_up_in_background();
        Ok(cached)
    }

    /// Counts everything the summary shows: a few scans of the register.
    async fn sum_up(&self) -> Result<RegisterSummary> {
        let at = Utc::now();
        let counts = self.store.asset_counts(at.date_naive()).await?;
        let parties = self.all_parties().await?;
        let people: HashMap<Uuid, Option<PersonStatus>> = parties
            .iter()
            .filter(|p| p.kind == PartyKind::Person)
            .map(|p| (p.id, p.status))
            .collect();
        let lookup = |id: Uuid| people.get(&id).copied().flatten();
        let orphan_owners: Vec<(Party, &'static str)> = parties
            .into_iter()
            .filter_map(|p| orphan_reason(&p, &lookup).map(|r| (p, r)))
            .collect();
        let ids: Vec<Uuid> = orphan_owners.iter().map(|(p, _)| p.id).collect();
        let orphaned = self.store.count_assets_owned_by(&ids).await?;
        let incomplete = self.count_incomplete().await?;
        Ok(RegisterSummary {
            counts,
            incomplete,
            orphaned,
            orphan_owners,
            at,
        })
    }

    /// Counts the records whose completeness shows something missing, page by page.
    async fn count_incomplete(&self) -> Result<i64> {
        let mut n = 0;
        let mut cursor = None;
        loop {
            let page = self
                .store
                .list_assets(&AssetQuery {
                    limit: 500,
                    cursor,
                    ..Default::default()
                })
                .await?;
            n += self
                .views(page.items)
                .await?
                .iter()
                .filter(|v| !v.completeness.complete)
                .count() as i64;
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(n),
            }
        }
    }

    /// Starts summing up in the background when the last summary is old and none is
    /// being made.
    pub(crate) fn sum_up_in_background(&self) {
        let Ok(mut state) = self.summary.lock() else {
            return;
        };
        let stale = state
            .last
            .as_ref()
            .is_none_or(|s| (Utc::now() - s.at).to_std().unwrap_or_default() > SUMMARY_EVERY);
        // A summary that has run for an hour has failed: another may start.
        let running = state
            .running_since
            .is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(3600));
        if stale && !running {
            state.running_since = Some(std::time::Instant::now());
            let app = self.clone();
            tokio::spawn(async move {
                let started = std::time::Instant::now();
                let made = app.sum_up().await;
                let outcome = match &made {
                    Ok(s) => Ok(format!("{} assets summed up", s.counts.total)),
                    Err(e) => Err(e.to_string()),
                };
                if let Ok(mut state) = app.summary.lock() {
                    state.running_since = None;
                    // A failed one leaves the last; the next view starts another.
                    if let Ok(s) = made {
                        state.last = Some(s);
                    }
                }
                app.record_job(crate::jobs::SUMMARY, outcome, started.elapsed());
            });
        }
    }

    /// Every party.
    pub(crate) async fn all_parties(&self) -> Result<Vec<Party>> {
        let store = self.store.clone();
        crate::all_pages(|cursor| {
            let store = store.clone();
            async move {
                store
                    .list_parties(&PartyQuery {
                        limit: 500,
                        cursor,
                        ..Default::default()
                    })
                    .await
            }
        })
        .await
    }
}
