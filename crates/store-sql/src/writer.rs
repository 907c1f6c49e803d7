//! Group commit: change sets submitted concurrently are written in one transaction.
//!
//! Every write must take the single chain lock (and, on SQLite, the single writer), so
//! concurrent requests queue anyway. The writer task takes whatever has queued, applies
//! it merged — one multi-row insert per table, one head update, one commit — and answers
//! each submitter. If the merged transaction fails, each change set is retried in a
//! transaction of its own, so one bad change set fails alone.

use tokio::sync::{mpsc, oneshot};

use custodian_store::{ChangeSet, Result, StoreError, Tx};

use crate::chain::ChainRef;
use crate::db::Pools;
use crate::tx::SqlTx;

/// The most change sets written in one transaction.
const MAX_GROUP: usize = 64;

type Job = (ChangeSet, oneshot::Sender<Result<()>>);

/// A handle on the writer task.
#[derive(Clone, Debug)]
pub struct Writer {
    queue: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer task on the current runtime.
    pub fn start(pools: Pools, chain: ChainRef) -> Self {
        let (queue, rx) = mpsc::channel(4 * MAX_GROUP);
        tokio::spawn(run(pools, chain, rx));
        Self { queue }
    }

    /// Writes a change set and waits until it is committed (or refused).
    pub async fn commit(&self, changes: ChangeSet) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.queue
            .send((changes, tx))
            .await
            .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?;
        rx.await
            .map_err(|_| StoreError::Unavailable("the writer stopped before answering".into()))?
    }
}

/// A change set that writes rows without an event is refused before it can be merged with
/// others (whose events would otherwise hide its lack of one).
fn unrecorded(changes: &ChangeSet) -> bool {
    changes.events.is_empty() && !changes.writes.is_empty()
}

async fn run(pools: Pools, chain: ChainRef, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = Vec::new();
        let mut next = Some(first);
        while let Some((changes, reply)) = next.take() {
            if unrecorded(&changes) {
                let _ = reply.send(Err(StoreError::Other(
                    "a change must be recorded by an audit event".into(),
                )));
            } else {
                jobs.push((changes, reply));
            }
            if jobs.len() < MAX_GROUP {
                next = rx.try_recv().ok();
            }
        }
        if jobs.is_empty() {
            continue;
        }
        if jobs.len() > 1 {
            let merged = ChangeSet {
                writes: jobs
                    .iter()
                    .flat_map(|(c, _)| c.writes.iter().cloned())
                    .collect(),
                events: jobs
                    .iter()
                    .flat_map(|(c, _)| c.events.iter().cloned())
                    .collect(),
            };
            if write(&pools, &chain, merged).await.is_ok() {
                for (_, reply) in jobs {
                    let _ = reply.send(Ok(()));
                }
                continue;
            }
        }
        for (changes, reply) in jobs {
            let _ = reply.send(write(&pools, &chain, changes).await);
        }
    }
}

async fn write(pools: &Pools, chain: &ChainRef, changes: ChangeSet) -> Result<()> {
    let mut tx = SqlTx::new(pools.begin().await?, pools.clone(), chain.clone());
    match tx.apply(changes).await {
        Ok(()) => Box::new(tx).commit().await,
        Err(e) => {
            let _ = Box::new(tx).rollback().await;
            Err(e)
        }
    }
}
