//! Audit trail use cases: reading events and verifying the chain.

use custodian_domain::audit::{ChainBreak, ChainKey, ChainVerifier, Event, Seal, SealPurpose};
use custodian_store::SealedHead;
use serde_json::{Map, Value};

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
        // Checkpoints beyond the head whose events are missing: events were removed from the
        // end and the head moved back. (Changes committed while this ran lie there too, with
        // their events.)
        if let Some((seq, _)) = self
            .store
            .checkpoints_after(head.seq, 1)
            .await?
            .into_iter()
            .next()
        {
            let present = self
                .store
                .events_after(seq - 1, 1)
                .await?
                .first()
                .is_some_and(|e| e.seq == seq);
            if !present {
                return Ok(Verification::Broken(ChainBreak {
                    seq: head.seq + 1,
                    reason: format!("missing: a seal names event {seq}, but the chain ends at event {}; events were removed from the end and the head moved back", head.seq),
                }));
            }
        }
        if let Err(b) = check_head_seal(&key, &head, seals.last_good) {
            return Ok(Verification::Broken(b));
        }
        // Every change since sealing began ends with a checkpoint, the head's included.
        if head.seq > 0 && seals.last_good != head.seq {
            return Ok(Verification::Broken(ChainBreak {
                seq: head.seq,
                reason: format!(
                    "no seal vouches for the head's event: the last checkpoint is at event {}, so seals were removed",
                    seals.last_good
                ),
            }));
        }
        Ok(Verification::Intact {
            events: v.checked,
            head_seq: head.seq,
            head_hash: head.hash,
            key_id: key.id().to_string(),
        })
    }
}

impl App {
    /// Seals, once, the chain of a register written before seals (the upgrade that added
    /// them), after checking every link and hash: its head becomes what later checks start
    /// from. Refused when the chain is broken, already sealed, or has lost its seals.
    pub async fn seal_audit(&self, ctx: &Ctx) -> Result<SealedHead> {
        self.allow(ctx, custodian_domain::access::Action::ReadAudit)
            .await?;
        if !matches!(ctx.access, crate::Access::System) {
            return Err(crate::AppError::Forbidden(
                "the audit trail is sealed from the server's command line only".into(),
            ));
        }
        let head = self.store.sealed_head().await?;
        let mut v = ChainVerifier::default();
        let mut after = 0;
        while after < head.seq {
            let batch = self.store.events_after(after, 5000).await?;
            let Some(last) = batch.last() else { break };
            after = last.seq;
            for e in batch.iter().filter(|e| e.seq <= head.seq) {
                if let Err(b) = v.feed(e) {
                    return Err(crate::AppError::invalid(
                        "audit",
                        format!(
                            "the audit trail is broken at event {}: {}; nothing was sealed",
                            b.seq, b.reason
                        ),
                    ));
                }
            }
        }
        if let Err(b) = v.finish(head.seq, &head.hash) {
            return Err(crate::AppError::invalid(
                "audit",
                format!(
                    "the audit trail is broken at event {}: {}; nothing was sealed",
                    b.seq, b.reason
                ),
            ));
        }
        Ok(self
            .store
            .seal_unsealed_chain(&self.sealer().chain_key())
            .await?)
    }
}

/// Where the register differs from what its audit trail tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterDifference {
    /// The asset's id.
    pub asset_id: String,
    /// Its number, when the register has the asset.
    pub asset_number: Option<String>,
    /// What differs, in words.
    pub reason: String,
}

/// The outcome of replaying the audit trail against the register.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegisterCheck {
    /// Every asset is as its events tell.
    Matches {
        /// Assets compared.
        assets: u64,
        /// Asset events replayed.
        events: u64,
    },
    /// The first asset, in id order, whose stored record differs from the replay.
    Differs(RegisterDifference),
}

/// A view of an asset in which a secret is only present or absent (its sealed value is
/// never in the trail, and a rotation reseals it without an event).
/// Only the record's own fields count: an asset's events also carry context (the relation
/// linked, the holder it was issued to) under other names.
fn comparable(mut m: Map<String, Value>) -> Map<String, Value> {
    m.retain(|k, _| {
        custodian_domain::asset::COMMON_FIELDS.contains(&k.as_str())
            || custodian_domain::fields::field(k).is_some()
    });
    for (k, v) in m.iter_mut() {
        let secret = custodian_domain::fields::field(k)
            .is_some_and(|d| d.ty == custodian_domain::fields::FieldType::Secret);
        if secret {
            *v = Value::String("(secret)".into());
        }
    }
    m
}

/// The first field, in name order, where two views differ.
fn first_difference(stored: &Map<String, Value>, replayed: &Map<String, Value>) -> Option<String> {
    let mut keys: Vec<&String> = stored.keys().chain(replayed.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter().find_map(|k| {
        let (s, r) = (stored.get(k), replayed.get(k));
        (s != r).then(|| {
            let show = |v: Option<&Value>| v.map_or("nothing".to_string(), |v| v.to_string());
            format!(
                "{k} is {} in the register, but the audit trail gives {}",
                show(s),
                show(r)
            )
        })
    })
}

impl App {
    /// Replays every asset's events, record by record, and compares the result with the
    /// register as stored: a row changed outside Custodian (or a change recorded without
    /// its event) is named. Streams: one asset and a batch of events in memory at a time.
    pub async fn verify_register(&self, ctx: &Ctx) -> Result<RegisterCheck> {
        self.allow(ctx, custodian_domain::access::Action::ReadAudit)
            .await?;
        const BATCH: u32 = 2000;
        let mut stream = AssetEvents::default();
        let mut assets: std::collections::VecDeque<custodian_domain::asset::Asset> =
            Default::default();
        let mut assets_after: Option<uuid::Uuid> = None;
        let mut assets_done = false;
        let (mut compared, mut replayed) = (0_u64, 0_u64);
        let mut last_entity: Option<uuid::Uuid> = None;
        loop {
            if stream.buf.is_empty() && !stream.done {
                stream.refill(self, BATCH).await?;
            }
            if assets.is_empty() && !assets_done {
                let batch = self.store.assets_by_id(assets_after, BATCH / 4).await?;
                assets_done = (batch.len() as u32) < BATCH / 4;
                assets_after = batch.last().map(|a| a.id).or(assets_after);
                assets.extend(batch);
            }
            let next_event = match stream.buf.front() {
                Some(e) => match uuid::Uuid::parse_str(&e.entity_id) {
                    Ok(id) => Some(id),
                    Err(_) => {
                        return Ok(RegisterCheck::Differs(RegisterDifference {
                            asset_id: e.entity_id.clone(),
                            asset_number: None,
                            reason: format!(
                                "event {} names an asset by an id that is not one",
                                e.seq
                            ),
                        }))
                    }
                },
                None => None,
            };
            if let (Some(id), Some(prev)) = (next_event, last_entity) {
                if id < prev {
                    return Err(crate::AppError::Internal(
                        "the database does not order asset ids as text in byte order (its collation): the trail cannot be replayed record by record".into(),
                    ));
                }
            }
            let next_asset = assets.front().map(|a| a.id);
            let id = match (next_event, next_asset) {
                (None, None) => break,
                (Some(e), Some(a)) => e.min(a),
                (Some(e), None) => e,
                (None, Some(a)) => a,
            };
            last_entity = Some(id);
            let key = id.to_string();
            let mut state: Option<crate::as_at::Replaying> = None;
            // This asset's events, which may run past the batch.
            loop {
                while let Some(e) = stream
                    .buf
                    .front()
                    .filter(|e| uuid::Uuid::parse_str(&e.entity_id).ok() == Some(id))
                {
                    state
                        .get_or_insert_with(|| {
                            crate::as_at::Replaying::start(&e.entity_id, e.occurred_at)
                        })
                        .feed(e.occurred_at, &e.changes);
                    replayed += 1;
                    stream.buf.pop_front();
                }
                if !stream.buf.is_empty() || stream.done {
                    break;
                }
                stream.refill(self, BATCH).await?;
            }
            let stored = if next_asset == Some(id) {
                assets.pop_front()
            } else {
                None
            };
            let difference = match (&stored, &state) {
                (Some(_), None) => Some("the register has the asset, but the audit trail never recorded its creation".to_string()),
                (None, Some(_)) => Some("the audit trail records the asset, but the register does not have it (removed outside Custodian)".to_string()),
                (Some(a), Some(r)) => {
                    compared += 1;
                    first_difference(&comparable(a.audit_view()), &comparable(r.view().clone()))
                }
                (None, None) => None,
            };
            if let Some(reason) = difference {
                return Ok(RegisterCheck::Differs(RegisterDifference {
                    asset_id: key,
                    asset_number: stored.map(|a| a.asset_number),
                    reason,
                }));
            }
        }
        Ok(RegisterCheck::Matches {
            assets: compared,
            events: replayed,
        })
    }
}

/// Asset events in `(entity_id, seq)` order, a batch at a time.
#[derive(Default)]
struct AssetEvents {
    buf: std::collections::VecDeque<Event>,
    after: Option<(String, i64)>,
    done: bool,
}

impl AssetEvents {
    async fn refill(&mut self, app: &App, batch: u32) -> Result<()> {
        let got = app
            .store
            .entity_events("asset", self.after.clone(), None, batch)
            .await?;
        self.done = (got.len() as u32) < batch;
        if let Some(last) = got.last() {
            self.after = Some((last.entity_id.clone(), last.seq));
        }
        self.buf.extend(got);
        Ok(())
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
        let prev = self.last_good;
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
            .check(SealPurpose::Checkpoint, e.seq, &e.hash, prev, &seal.value)
        {
            return Err(ChainBreak {
                seq: from,
                reason: format!(
                    "the seal of event {} does not match: an event from {from} to {} was altered and the later hashes recomputed, or a seal before it was removed",
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
            reason: "the head of the chain carries no seal: it was written before seals (once, after that upgrade, run `custodian audit seal`), or its seal was removed".into(),
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
    if !key.check(SealPurpose::Head, head.seq, &head.hash, 0, &seal.value) {
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
