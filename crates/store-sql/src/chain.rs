//! Seals on the audit chain: the key a store seals with, the head's check before every
//! append, and the checkpoint and head seals written with every change.
//!
//! Every committed change stores a checkpoint (the seal of its last event) and moves the
//! head's seal on. A writer refuses to extend a chain whose head its key does not seal:
//! sealing a head that was altered would bless the alteration.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

use custodian_domain::audit::{ChainKey, Seal, SealPurpose};
use custodian_store::{Result, SealedHead, StoreError};

use crate::db::{Pools, Sql, TxConn};

/// What every transaction of a store shares about sealing.
#[derive(Debug, Default)]
pub(crate) struct Chain {
    key: RwLock<Option<ChainKey>>,
    /// Set when this process created the seal columns: an empty chain may then be sealed
    /// without a seal to check (a new register).
    first_seal: AtomicBool,
}

/// A store's shared sealing state.
pub(crate) type ChainRef = Arc<Chain>;

/// The migration that added seals.
pub(crate) const SEALS_MIGRATION: i64 = 7;

impl Chain {
    /// The key new seals are made with (none: the store is used without one, in tests of
    /// the storage alone).
    pub(crate) fn key(&self) -> Option<ChainKey> {
        self.key.read().ok().and_then(|k| k.clone())
    }

    pub(crate) fn set_key(&self, key: ChainKey) {
        if let Ok(mut k) = self.key.write() {
            *k = Some(key);
        }
    }

    pub(crate) fn allow_first_seal(&self) {
        self.first_seal.store(true, Ordering::SeqCst);
    }

    fn first_seal_allowed(&self) -> bool {
        self.first_seal.load(Ordering::SeqCst)
    }
}

/// The columns of the head, read by [`sealed_head`] and [`lock_head`].
const HEAD_SQL: &str = "SELECT seq, hash, key_id, seal FROM audit_head WHERE id = 1";

fn head_of(r: &crate::db::Row) -> Result<SealedHead> {
    let key_id: Option<String> = r.get("key_id")?;
    let seal: Option<String> = r.get("seal")?;
    Ok(SealedHead {
        seq: r.get("seq")?,
        hash: r.get("hash")?,
        seal: match (key_id, seal) {
            (Some(key_id), Some(value)) => Some(Seal { key_id, value }),
            _ => None,
        },
    })
}

/// Reads the head in a write transaction; on PostgreSQL the row lock serialises writers
/// until commit (SQLite's single writer does the same).
async fn locked_head(conn: &mut TxConn) -> Result<SealedHead> {
    let lock = if conn.dialect() == crate::db::Dialect::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    head_of(
        &conn
            .fetch_one(Sql::new(format!("{HEAD_SQL}{lock}")))
            .await?,
    )
}

/// The head as committed.
pub(crate) async fn sealed_head(pools: &Pools) -> Result<SealedHead> {
    head_of(&pools.fetch_one(Sql::new(HEAD_SQL)).await?)
}

/// Where the chain ends, as a transaction appending to it sees it.
#[derive(Clone, Debug)]
pub(crate) struct Tip {
    /// The last sequence number.
    pub seq: i64,
    /// The last event's hash.
    pub hash: String,
    /// When the last event was recorded: a later event is never recorded earlier.
    pub at: Option<DateTime<Utc>>,
}

impl Tip {
    /// The tip a stored head names (its time unread).
    fn at_head(head: &SealedHead) -> Self {
        Tip {
            seq: head.seq,
            hash: head.hash.clone(),
            at: None,
        }
    }
}

/// The head as a write transaction holds it, and the last checkpoint.
pub(crate) struct Locked {
    pub tip: Tip,
    pub checkpoint: i64,
}

/// Reads (and on PostgreSQL locks) the head in a write transaction, and checks that `key`
/// seals it.
pub(crate) async fn lock_head(
    conn: &mut TxConn,
    chain: &Chain,
    key: Option<&ChainKey>,
) -> Result<Locked> {
    let head = locked_head(conn).await?;
    match key {
        Some(key) => check_head(&head, key, chain.first_seal_allowed())?,
        // Writing without a key would strip the seal every keyed server then refuses.
        None if head.seal.is_some() => {
            return Err(StoreError::Integrity(
                "the audit chain is sealed, but this process holds no key to seal with".into(),
            ))
        }
        None => {}
    }
    let checkpoint: i64 = conn
        .fetch_one(Sql::new(
            "SELECT COALESCE(MAX(seq), 0) AS seq FROM audit_seals",
        ))
        .await?
        .get("seq")?;
    let at = if head.seq > 0 {
        conn.fetch_one(
            Sql::new("SELECT occurred_at FROM audit_events WHERE seq = $1").bind(head.seq),
        )
        .await?
        .get("occurred_at")?
    } else {
        None
    };
    Ok(Locked {
        tip: Tip {
            seq: head.seq,
            hash: head.hash,
            at,
        },
        checkpoint,
    })
}

/// Whether `key` seals `head`; the error says what to do.
fn check_head(head: &SealedHead, key: &ChainKey, first_seal: bool) -> Result<()> {
    match &head.seal {
        // Only an empty chain is sealed without a seal to check: there is nothing to
        // bless. A chain written before seals is sealed by `custodian audit seal`.
        None if first_seal && head.seq == 0 => Ok(()),
        None => Err(StoreError::Integrity(format!(
            "the head of the audit chain (event {}) carries no seal: it was written before seals (after the upgrade, check it with `custodian audit verify` and seal it once with `custodian audit seal`), or its seal was removed",
            head.seq
        ))),
        Some(s) if s.key_id != key.id() => Err(StoreError::Integrity(format!(
            "the audit chain is sealed under key {}, but this process holds key {}: start it with the key the register was sealed with (after `custodian key rotate`, every instance needs the new key)",
            s.key_id,
            key.id()
        ))),
        Some(s) if !key.check(SealPurpose::Head, head.seq, &head.hash, 0, &s.value) => {
            Err(StoreError::Integrity(format!(
                "the seal of the audit chain's head (event {}) does not match: the chain was changed outside Custodian; run `custodian audit verify`",
                head.seq
            )))
        }
        Some(_) => Ok(()),
    }
}

/// After appending events up to `head`: stores its checkpoint (chained to the checkpoint
/// before, `prev`) and moves the head with its seal (without a key, the head alone).
pub(crate) async fn write_head(
    conn: &mut TxConn,
    key: Option<&ChainKey>,
    head: &Tip,
    prev: i64,
) -> Result<()> {
    let Some(key) = key else {
        conn.execute(
            Sql::new("UPDATE audit_head SET seq = $1, hash = $2, key_id = NULL, seal = NULL WHERE id = 1")
                .bind(head.seq)
                .bind(head.hash.clone()),
        )
        .await?;
        return Ok(());
    };
    insert_checkpoint(conn, key, head, prev).await?;
    seal_head(conn, key, head).await
}

async fn insert_checkpoint(conn: &mut TxConn, key: &ChainKey, head: &Tip, prev: i64) -> Result<()> {
    conn.execute(
        Sql::new("INSERT INTO audit_seals (seq, key_id, seal) VALUES ($1, $2, $3)")
            .bind(head.seq)
            .bind(key.id().to_string())
            .bind(key.seal(SealPurpose::Checkpoint, head.seq, &head.hash, prev)),
    )
    .await?;
    Ok(())
}

/// Writes the head with its seal under `key`.
async fn seal_head(conn: &mut TxConn, key: &ChainKey, head: &Tip) -> Result<()> {
    conn.execute(
        Sql::new("UPDATE audit_head SET seq = $1, hash = $2, key_id = $3, seal = $4 WHERE id = 1")
            .bind(head.seq)
            .bind(head.hash.clone())
            .bind(key.id().to_string())
            .bind(key.seal(SealPurpose::Head, head.seq, &head.hash, 0)),
    )
    .await?;
    Ok(())
}

/// Seals every checkpoint, and the head, anew under `new`. The caller has checked the head
/// under the old key; checkpoints are rewritten from the events' stored hashes, so a
/// checkpoint that did not match before is resealed only if verification missed it — the
/// caller verifies the whole chain first.
pub(crate) async fn reseal(conn: &mut TxConn, new: &ChainKey, head: &Tip) -> Result<u64> {
    let mut after = 0_i64;
    let mut n = 0_u64;
    let mut prev = 0_i64;
    loop {
        let rows = conn
            .fetch_all(
                Sql::new(
                    "SELECT s.seq, e.hash FROM audit_seals s JOIN audit_events e ON e.seq = s.seq \
                     WHERE s.seq > $1 ORDER BY s.seq LIMIT 1000",
                )
                .bind(after),
            )
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.get("seq")?;
        for r in &rows {
            let seq: i64 = r.get("seq")?;
            let hash: String = r.get("hash")?;
            conn.execute(
                Sql::new("UPDATE audit_seals SET key_id = $1, seal = $2 WHERE seq = $3")
                    .bind(new.id().to_string())
                    .bind(new.seal(SealPurpose::Checkpoint, seq, &hash, prev))
                    .bind(seq),
            )
            .await?;
            prev = seq;
            n += 1;
        }
    }
    seal_head(conn, new, head).await?;
    Ok(n)
}

/// Checkpoints after `seq`, in order.
pub(crate) async fn checkpoints_after(
    pools: &Pools,
    seq: i64,
    limit: u32,
) -> Result<Vec<(i64, Seal)>> {
    pools
        .fetch_all(
            Sql::new(format!(
                "SELECT seq, key_id, seal FROM audit_seals WHERE seq > $1 ORDER BY seq LIMIT {}",
                limit.max(1)
            ))
            .bind(seq),
        )
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.get("seq")?,
                Seal {
                    key_id: r.get("key_id")?,
                    value: r.get("seal")?,
                },
            ))
        })
        .collect()
}

/// Takes `key` into use. A new register's empty chain is sealed now, by the process that
/// created it; nothing else is sealed without being asked (see [`seal_first`]).
pub(crate) async fn use_key(pools: &Pools, chain: &Chain, key: ChainKey) -> Result<()> {
    chain.set_key(key.clone());
    if !chain.first_seal_allowed() {
        return Ok(());
    }
    let mut conn = pools.begin().await?;
    let head = locked_head(&mut conn).await?;
    if head.seal.is_none() && head.seq == 0 {
        seal_head(&mut conn, &key, &Tip::at_head(&head)).await?;
    }
    conn.commit().await?;
    chain.first_seal.store(false, Ordering::SeqCst);
    Ok(())
}

/// Seals, once, the head of a chain written before seals (the upgrade that added them):
/// a checkpoint at the head and the head's seal. Refused when the head is sealed, or when
/// checkpoints exist (a head that lost its seal is tampering, not an old register).
pub(crate) async fn seal_first(pools: &Pools, key: &ChainKey) -> Result<SealedHead> {
    let mut conn = pools.begin().await?;
    let head = locked_head(&mut conn).await?;
    if head.seal.is_some() {
        return Err(StoreError::Integrity(format!(
            "the audit chain's head (event {}) is sealed already",
            head.seq
        )));
    }
    let checkpoints: i64 = conn
        .fetch_one(Sql::new("SELECT COUNT(*) AS n FROM audit_seals"))
        .await?
        .get("n")?;
    if checkpoints > 0 {
        return Err(StoreError::Integrity(format!(
            "the audit chain has {checkpoints} seals but its head has none: its seal was removed, which is tampering, not a register written before seals"
        )));
    }
    let at = Tip::at_head(&head);
    if head.seq > 0 {
        insert_checkpoint(&mut conn, key, &at, 0).await?;
    }
    seal_head(&mut conn, key, &at).await?;
    conn.commit().await?;
    tracing::info!(
        "sealed the audit chain's head (event {}, hash {}) under key {}",
        head.seq,
        head.hash,
        key.id()
    );
    sealed_head(pools).await
}
