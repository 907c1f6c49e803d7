//! Audit trail use cases: reading events and verifying the chain.

use custodian_domain::audit::{ChainBreak, ChainVerifier, Event};

use crate::{App, Ctx, Result};

/// The outcome of verifying the audit chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verification {
    /// Every event checked out; the count and the head's hash.
    Intact {
        /// Events checked.
        events: u64,
        /// The last hash.
        head_hash: String,
    },
    /// The first place the chain is broken.
    Broken(ChainBreak),
}

impl App {
    /// Events after `seq`, in order.
    pub async fn audit_events(&self, ctx: &Ctx, after: i64, limit: u32) -> Result<Vec<Event>> {
        self.allow(ctx, custodian_domain::access::Action::ReadAudit)
            .await?;
        Ok(self.store.events_after(after, limit.clamp(1, 500)).await?)
    }

    /// The sequence number of the newest event.
    pub async fn audit_last_seq(&self, ctx: &Ctx) -> Result<i64> {
        self.allow(ctx, custodian_domain::access::Action::ReadAudit)
            .await?;
        Ok(self.store.audit_head().await?.0)
    }

    /// Walks the whole chain, recomputing every hash and link.
    pub async fn verify_audit(&self, ctx: &Ctx) -> Result<Verification> {
        self.allow(ctx, custodian_domain::access::Action::ReadAudit)
            .await?;
        // Read the head first: events appended while verifying lie beyond it.
        let (head_seq, head_hash) = self.store.audit_head().await?;
        let mut v = ChainVerifier::default();
        let mut after = 0;
        loop {
            let batch = self.store.events_after(after, 5000).await?;
            let Some(last) = batch.last() else { break };
            after = last.seq;
            for e in batch.iter().filter(|e| e.seq <= head_seq) {
                if let Err(b) = v.feed(e) {
                    return Ok(Verification::Broken(b));
                }
            }
            if after >= head_seq {
                break;
            }
        }
        Ok(match v.finish(head_seq, &head_hash) {
            Ok(()) => Verification::Intact {
                events: v.checked,
                head_hash,
            },
            Err(b) => Verification::Broken(b),
        })
    }
}
