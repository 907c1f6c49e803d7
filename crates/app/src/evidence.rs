//! The auditor's evidence pack (SPEC §12): the cut of the audit trail it stands at, and
//! what it holds besides reports: the trail to the cut, the policies in force then, the
//! handling matrix. `custodian_io::evidence` writes the zip.

use chrono::{DateTime, Utc};
use serde_json::json;

use custodian_domain::access::Action;
use custodian_domain::audit::Event;
use custodian_domain::policy::{DocumentFormat, PolicyDocument, PolicyRendering, PolicyVersion};
use custodian_domain::report::Cell;

use crate::{App, Ctx, Result};

/// The cut of the audit trail a pack stands at: its time, and the last event by then.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvidenceCut {
    /// The time asked for.
    pub as_at: DateTime<Utc>,
    /// The last event recorded by then.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
}

/// Audit events read for one page of the pack's trail.
pub const TRAIL_PAGE: u32 = 5000;

impl App {
    /// Opens an evidence pack for `as_at` (now when `None`): the cut of the trail then. The
    /// pack holds the whole audit trail to the cut, so it is for those who read the trail
    /// and the reports: auditors and admins. Its download is an event, after the cut, so
    /// no pack holds its own.
    pub async fn open_evidence(
        &self,
        ctx: &Ctx,
        as_at: Option<DateTime<Utc>>,
    ) -> Result<EvidenceCut> {
        self.allow(ctx, Action::ReadReports).await?;
        self.allow(ctx, Action::ReadAudit).await?;
        let as_at = as_at.unwrap_or_else(custodian_domain::now);
        let (seq, hash) = self.head_at(as_at).await?;
        let ev = self.event(
            ctx,
            "evidence.downloaded",
            "report",
            "evidence",
            json!({
                "as_at": custodian_domain::value::format_timestamp(&as_at),
                "audit_seq": seq, "audit_hash": hash,
            }),
        );
        self.record(ev).await?;
        Ok(EvidenceCut { as_at, seq, hash })
    }

    /// The events after `after`, up to the cut, in order.
    pub async fn evidence_events(
        &self,
        ctx: &Ctx,
        cut: &EvidenceCut,
        after: i64,
    ) -> Result<Vec<Event>> {
        self.allow(ctx, Action::ReadAudit).await?;
        if after >= cut.seq {
            return Ok(Vec::new());
        }
        let mut events = self.store.events_after(after, TRAIL_PAGE).await?;
        events.retain(|e| e.seq <= cut.seq);
        Ok(events)
    }

    /// The versions in force at the cut, each with its PDF as kept at approval.
    pub async fn evidence_policies(
        &self,
        ctx: &Ctx,
        cut: &EvidenceCut,
    ) -> Result<Vec<(PolicyVersion, PolicyRendering)>> {
        self.allow(ctx, Action::ReadReports).await?;
        let mut out = Vec::new();
        for d in PolicyDocument::ALL {
            if let Some(v) = self.policy_in_force_at(*d, cut.as_at).await? {
                let r = self.policy_document(ctx, v.id, DocumentFormat::Pdf).await?;
                out.push((v, r));
            }
        }
        Ok(out)
    }

    /// The handling matrix: each level of the classification scheme and what it asks.
    pub async fn handling_matrix(&self, ctx: &Ctx) -> Result<Vec<Vec<Cell>>> {
        self.allow(ctx, Action::ReadReports).await?;
        let scheme = self.scheme().await?;
        let mut levels: Vec<_> = scheme.levels.iter().collect();
        levels.sort_by_key(|l| l.rank);
        Ok(levels
            .into_iter()
            .map(|l| {
                vec![
                    Cell::Text(l.name.clone()),
                    Cell::Int(i64::from(l.rank)),
                    Cell::text(l.description.clone()),
                    Cell::Bool(l.encryption_required),
                    Cell::Text(l.off_premises.as_str().replace('_', " ")),
                    Cell::Text(l.external_sharing.as_str().replace('_', " ")),
                    Cell::Bool(l.label_required),
                    Cell::Text(l.disposal_method.as_str().replace('_', " ")),
                    Cell::Int(i64::from(l.review_interval_days)),
                ]
            })
            .collect())
    }
}
