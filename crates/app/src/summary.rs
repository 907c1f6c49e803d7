//! The state of the register at a glance: how it divides, what is overdue, which assets
//! have no accountable owner any more.

use std::collections::HashMap;

use uuid::Uuid;

use chrono::{DateTime, Utc};
use custodian_domain::access::Action;
use custodian_domain::party::{orphan_reason, Party, PartyKind, PersonStatus};
use custodian_store::{AssetCounts, AssetQuery, Cursor, PartyQuery};

use crate::{App, Ctx, Result};

/// Registers up to this size are counted for incomplete records on every request; larger
/// ones in the background, at most every [`INCOMPLETE_EVERY`].
pub const COUNT_NOW_UP_TO: i64 = 20_000;
/// How old a background count of incomplete records may grow before another starts.
pub const INCOMPLETE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// The last count of records that lack what the policy asks of their kind.
#[derive(Clone, Debug, Default)]
pub struct IncompleteCount {
    /// Incomplete records, and when they were counted (`None`: not counted yet).
    pub last: Option<(i64, DateTime<Utc>)>,
    /// When a background count started, while it runs.
    running_since: Option<std::time::Instant>,
}

/// The register's state, for those who read all of it.
#[derive(Clone, Debug, Default)]
pub struct RegisterSummary {
    /// Counts by kind, status and classification, and overdue reviews.
    pub counts: AssetCounts,
    /// Records that lack what the policy asks of their kind, and when they were counted
    /// (`None`: the first count of a large register is still running).
    pub incomplete: Option<(i64, DateTime<Utc>)>,
    /// Assets whose owner cannot be accountable (left, empty team, vacant role).
    pub orphaned: i64,
    /// The owners concerned, with why.
    pub orphan_owners: Vec<(Party, &'static str)>,
}

impl App {
    /// The state of the register (managers, admins and auditors).
    pub async fn register_summary(&self, ctx: &Ctx) -> Result<RegisterSummary> {
        self.allow(ctx, Action::ReadRegister).await?;
        let today = chrono::Utc::now().date_naive();
        let counts = self.store.asset_counts(today).await?;
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
        let incomplete = if counts.total <= self.settings.count_incomplete_now_up_to {
            Some((self.count_incomplete().await?, Utc::now()))
        } else {
            self.incomplete_in_background()
        };
        Ok(RegisterSummary {
            counts,
            incomplete,
            orphaned,
            orphan_owners,
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

    /// The last background count; starts another when it is old and none is running.
    fn incomplete_in_background(&self) -> Option<(i64, DateTime<Utc>)> {
        let Ok(mut state) = self.incomplete.lock() else {
            return None;
        };
        let stale = state.last.is_none_or(|(_, at)| {
            (Utc::now() - at).to_std().unwrap_or_default() > INCOMPLETE_EVERY
        });
        // A count that has run for an hour has failed: another may start.
        let running = state
            .running_since
            .is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(3600));
        if stale && !running {
            state.running_since = Some(std::time::Instant::now());
            let app = self.clone();
            tokio::spawn(async move {
                let counted = app.count_incomplete().await;
                if let Ok(mut state) = app.incomplete.lock() {
                    state.running_since = None;
                    // A failed count leaves the last one; the next view starts another.
                    if let Ok(n) = counted {
                        state.last = Some((n, Utc::now()));
                    }
                }
            });
        }
        state.last
    }

    async fn all_parties(&self) -> Result<Vec<Party>> {
        let mut out = Vec::new();
        let mut cursor: Option<Cursor> = None;
        loop {
            let page = self
                .store
                .list_parties(&PartyQuery {
                    limit: 500,
                    cursor,
                    ..Default::default()
                })
                .await?;
            out.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }
}
