//! Pipelined bulk transactions (imports).
//!
//! The transaction lives on a task of its own. `apply` builds a change set's statements on
//! the caller's side — the rows of its new assets, its events sealed onto the chain (the
//! bulk transaction holds the chain lock, so the head it read stays its own) — and only
//! queues them, so the importer validates and prepares the next chunk while the database
//! writes this one; a failure is kept and reported by the next call. Calls that answer
//! (reserving numbers, finding assets, commit, rollback) wait for everything queued before
//! them.

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use custodian_domain::asset::Asset;
use custodian_store::{ChangeSet, MatchKey, Result, StoreError, Tx};

use crate::tx::{prepare_changes, Prepared, SqlTx};

/// Change sets queued ahead of the database: enough to overlap, few enough to bound memory.
const QUEUE: usize = 2;

enum Job {
    Apply(Box<Prepared>),
    Head(oneshot::Sender<Result<crate::chain::Tip>>),
    Reserve(String, usize, oneshot::Sender<Result<Vec<String>>>),
    Release(String, usize, oneshot::Sender<Result<()>>),
    Find(MatchKey, Vec<String>, oneshot::Sender<Result<Vec<Asset>>>),
    Taken(Vec<String>, oneshot::Sender<Result<Vec<String>>>),
    Finish(bool, oneshot::Sender<Result<()>>),
}

/// A handle on a bulk transaction running on its own task.
pub struct BulkTx {
    jobs: mpsc::Sender<Job>,
    /// How the transaction's inserts begin.
    verb: &'static str,
    /// The chain head after the events queued so far (read at the first apply).
    head: Option<crate::chain::Tip>,
}

impl BulkTx {
    /// Moves a transaction onto its own task.
    pub fn start(tx: SqlTx) -> Self {
        let (jobs, rx) = mpsc::channel(QUEUE);
        let verb = tx.insert_verb();
        tokio::spawn(run(tx, rx));
        Self {
            jobs,
            verb,
            head: None,
        }
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<Result<T>>) -> Job) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        self.jobs.send(make(tx)).await.map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }
}

fn gone() -> StoreError {
    StoreError::Other("the bulk transaction has ended".into())
}

fn failed(e: &StoreError) -> StoreError {
    StoreError::Other(format!("an earlier change in this transaction failed: {e}"))
}

async fn run(mut tx: SqlTx, mut rx: mpsc::Receiver<Job>) {
    let mut error: Option<StoreError> = None;
    while let Some(job) = rx.recv().await {
        match job {
            Job::Apply(p) => {
                if error.is_none() {
                    if let Err(e) = tx.apply_prepared(*p).await {
                        error = Some(e);
                    }
                }
            }
            Job::Head(reply) => {
                let r = match &error {
                    Some(e) => Err(failed(e)),
                    None => tx.chain_head().await,
                };
                let _ = reply.send(r);
            }
            Job::Reserve(prefix, n, reply) => {
                let r = match &error {
                    Some(e) => Err(failed(e)),
                    None => tx.reserve_asset_numbers(&prefix, n).await,
                };
                let _ = reply.send(r);
            }
            Job::Release(prefix, n, reply) => {
                let r = match &error {
                    Some(e) => Err(failed(e)),
                    None => tx.release_asset_numbers(&prefix, n).await,
                };
                let _ = reply.send(r);
            }
            Job::Find(key, values, reply) => {
                let r = match &error {
                    Some(e) => Err(failed(e)),
                    None => tx.find_assets(key, &values).await,
                };
                let _ = reply.send(r);
            }
            Job::Taken(numbers, reply) => {
                let r = match &error {
                    Some(e) => Err(failed(e)),
                    None => tx.taken_asset_numbers(&numbers).await,
                };
                let _ = reply.send(r);
            }
            Job::Finish(commit, reply) => {
                let r = match error.take() {
                    Some(e) => {
                        let _ = Box::new(tx).rollback().await;
                        Err(e)
                    }
                    None if commit => Box::new(tx).commit().await,
                    None => Box::new(tx).rollback().await,
                };
                let _ = reply.send(r);
                return;
            }
        }
    }
    // The handle was dropped without finishing: throw the work away.
    let _ = Box::new(tx).rollback().await;
}

#[async_trait]
impl Tx for BulkTx {
    async fn reserve_asset_numbers(&mut self, prefix: &str, n: usize) -> Result<Vec<String>> {
        let prefix = prefix.to_string();
        self.ask(|r| Job::Reserve(prefix, n, r)).await
    }

    async fn release_asset_numbers(&mut self, prefix: &str, n: usize) -> Result<()> {
        let prefix = prefix.to_string();
        self.ask(|r| Job::Release(prefix, n, r)).await
    }

    async fn find_assets(&mut self, key: MatchKey, values: &[String]) -> Result<Vec<Asset>> {
        let values = values.to_vec();
        self.ask(|r| Job::Find(key, values, r)).await
    }

    async fn taken_asset_numbers(&mut self, numbers: &[String]) -> Result<Vec<String>> {
        let numbers = numbers.to_vec();
        self.ask(|r| Job::Taken(numbers, r)).await
    }

    async fn apply(&mut self, changes: ChangeSet) -> Result<()> {
        let mut head = match self.head.take() {
            Some(h) => h,
            None => self.ask(Job::Head).await?,
        };
        let prepared = prepare_changes(changes, &mut head, self.verb);
        self.head = Some(head);
        self.jobs
            .send(Job::Apply(Box::new(prepared?)))
            .await
            .map_err(|_| gone())
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        self.ask(|r| Job::Finish(true, r)).await
    }

    async fn reseal_chain(&mut self, _key: custodian_domain::audit::ChainKey) -> Result<u64> {
        Err(StoreError::Other(
            "the chain is resealed in a transaction of its own, not in a bulk load".into(),
        ))
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        self.ask(|r| Job::Finish(false, r)).await
    }
}
