//! The state of the register at a glance: how it divides, what is overdue, which assets
//! have no accountable owner any more.

use std::collections::HashMap;

use uuid::Uuid;

use custodian_domain::access::Action;
use custodian_domain::party::{orphan_reason, Party, PartyKind, PersonStatus};
use custodian_store::{AssetCounts, Cursor, PartyQuery};

use crate::{App, Ctx, Result};

/// The register's state, for those who read all of it.
#[derive(Clone, Debug, Default)]
pub struct RegisterSummary {
    /// Counts by kind, status and classification, and overdue reviews.
    pub counts: AssetCounts,
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
        Ok(RegisterSummary {
            counts,
            orphaned,
            orphan_owners,
        })
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
