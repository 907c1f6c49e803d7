//! Audit trail use cases: reading events and verifying the chain.

use custodian_domain::audit::{ChainBreak, ChainKey, ChainVerifier, Event, Seal, SealPurpose};
use custodian_store::SealedHead;

use crate::{App, Ctx, Result};

/// The outcome of verifying the audit chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verification {
    /// Every event and seal checked out; the count and the head, to keep outside the
    /// database (a later verification must reach the same head or go past it).
    Intact {
        /// Events checked.
        events: u64,
        /// The head's sequence number.
        head_seq: i64,
        /// The last hash.
        head_hash: String,
        /// The key the chain is sealed under.
        key_id: String,
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

    /// Walks the whole chain, recomputing every hash and link, and checks every seal
    /// against the key: the checkpoints of committed changes and the head.
    pub async fn verify_audit(&self, ctx: &Ctx) -> Result<Verification> {
        self.allow(ctx, custodian_domain::access::Action::ReadAudit)
            .await?;
        // Read the head first: events appended while verifying lie beyond it.
        let head = self.store.sealed_head().await?;
        let key = self.sealer().chain_key();
        let mut v = ChainVerifier::default();
        let mut seals = SealWalk::new(key.clone());
        let mut after = 0;
        while after < head.seq {
            let batch = self.store.events_after(after, 5000).await?;
            let Some(last) = batch.last() else { break };
            after = last.seq;
            let checkpoints = self.store.checkpoints_after(seals.checked_to, 5000).await?;
            seals.add(checkpoints.into_iter().filter(|(s, _)| *s <= after));
            for e in batch.iter().filter(|e| e.seq <= head.seq) {
                if let Err(b) = v.feed(e) {
                    return Ok(Verification::Broken(b));
                }
                if let Err(b) = seals.feed(e) {
                    return Ok(Verification::Broken(b));
                }
            }
        }
        if let Err(b) = v.finish(head.seq, &head.hash) {
            return Ok(Verification::Broken(b));
        }
        // Checkpoints beyond the head: its events were removed and the head moved back.
        if let Some((seq, _)) = self
            .store
            .checkpoints_after(head.seq, 1)
            .await?
            .into_iter()
            .next()
        {
            return Ok(Verification::Broken(ChainBreak {
                seq: head.seq + 1,
                reason: format!("missing: a seal names event {seq}, but the chain ends at event {}; events were removed from the end and the head moved back", head.seq),
            }));
        }
        if let Err(b) = check_head_seal(&key, &head, seals.last_good) {
            return Ok(Verification::Broken(b));
        }
        Ok(Verification::Intact {
            events: v.checked,
            head_seq: head.seq,
            head_hash: head.hash,
            key_id: key.id().to_string(),
        })
    }
}

/// Checks the checkpoint seals as the chain's events go by.
struct SealWalk {
    key: ChainKey,
    /// Checkpoints read and not yet reached, in order.
    pending: std::collections::VecDeque<(i64, Seal)>,
    /// The last checkpoint read.
    checked_to: i64,
    /// The last event whose seal matched.
    last_good: i64,
}

impl SealWalk {
    fn new(key: ChainKey) -> Self {
        Self {
            key,
            pending: Default::default(),
            checked_to: 0,
            last_good: 0,
        }
    }

    fn add(&mut self, seals: impl Iterator<Item = (i64, Seal)>) {
        for (seq, seal) in seals {
            self.checked_to = seq;
            self.pending.push_back((seq, seal));
        }
    }

    /// Checks the seal of `e`, if it ends a committed change.
    fn feed(&mut self, e: &Event) -> Result<(), ChainBreak> {
        let Some((seq, seal)) = self.pending.front() else {
            return Ok(());
        };
        if *seq != e.seq {
            return Ok(());
        }
        let from = self.last_good + 1;
        if seal.key_id != self.key.id() {
            return Err(ChainBreak {
                seq: e.seq,
                reason: format!(
                    "it is sealed under key {}, but the key in use is {}: verify with the key the register was sealed with",
                    seal.key_id,
                    self.key.id()
                ),
            });
        }
        if !self
            .key
            .check(SealPurpose::Checkpoint, e.seq, &e.hash, &seal.value)
        {
            return Err(ChainBreak {
                seq: from,
                reason: format!(
                    "the seal of event {} does not match: an event from {from} to {} was altered and the later hashes recomputed",
                    e.seq, e.seq
                ),
            });
        }
        self.last_good = e.seq;
        self.pending.pop_front();
        Ok(())
    }
}

/// Checks the head's seal; `last_good` is the last event a checkpoint vouched for.
fn check_head_seal(key: &ChainKey, head: &SealedHead, last_good: i64) -> Result<(), ChainBreak> {
    let Some(seal) = &head.seal else {
        return Err(ChainBreak {
            seq: head.seq,
            reason: "the head of the chain carries no seal: it was written without Custodian's key, or its seal was removed".into(),
        });
    };
    if seal.key_id != key.id() {
        return Err(ChainBreak {
            seq: head.seq,
            reason: format!(
                "the head is sealed under key {}, but the key in use is {}: verify with the key the register was sealed with",
                seal.key_id,
                key.id()
            ),
        });
    }
    if !key.check(SealPurpose::Head, head.seq, &head.hash, &seal.value) {
        let reason = if last_good == head.seq {
            format!(
                "the head's seal does not match event {n}, though that event's checkpoint does: events after event {n} were removed and the head moved back to it, or the head was rewritten",
                n = head.seq
            )
        } else {
            format!(
                "the head's seal does not match event {n}: events after event {n} were removed and the head moved back, or an event after event {last_good} was altered and the later hashes recomputed",
                n = head.seq
            )
        };
        return Err(ChainBreak {
            seq: head.seq,
            reason,
        });
    }
    Ok(())
}
