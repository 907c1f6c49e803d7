//! Audit sampling (SPEC §12): how many records to draw from a population, and which.
//!
//! A record's place in a sample is its rank under a keyed hash: every record of the
//! population gets `SHA-256(seed ":" id)`, and the sample is the `n` records whose hashes
//! are smallest. That is a simple random sample without replacement (each set of `n`
//! records is equally likely for a random seed), it is reproducible by anyone with the
//! seed and the population's ids, whatever order the records are read in, and drawing it
//! keeps only `n` records in memory however large the population.

use std::collections::BinaryHeap;

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The algorithm's name, as the answer and the sample's event give it.
pub const ALGORITHM: &str = "bottom-k by SHA-256(seed \":\" id): the n records whose keyed hashes are smallest, a simple random sample without replacement";

/// The most records a sample may hold.
pub const MAX_SIZE: u64 = 1000;

/// How many to draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// This many (all of a smaller population).
    Exactly(u64),
    /// The common audit table: under 6, all; 6–50, 5; 51–250, 10 % (rounded up); over
    /// 250, 25.
    Auto,
}

impl Size {
    /// Reads `size`: a whole number from 1 to [`MAX_SIZE`], or `"auto"`.
    pub fn from_json(v: &serde_json::Value) -> Result<Self, String> {
        match v {
            serde_json::Value::String(s) if s == "auto" => Ok(Size::Auto),
            serde_json::Value::Number(n) => match n.as_u64() {
                Some(k) if (1..=MAX_SIZE).contains(&k) => Ok(Size::Exactly(k)),
                _ => Err(format!(
                    "must be a whole number from 1 to {MAX_SIZE}, or \"auto\""
                )),
            },
            _ => Err(format!(
                "must be a whole number from 1 to {MAX_SIZE}, or \"auto\""
            )),
        }
    }

    /// The sample's size for a population of `population` records.
    pub fn of(self, population: u64) -> u64 {
        match self {
            Size::Exactly(k) => k.min(population),
            Size::Auto => match population {
                0..=5 => population,
                6..=50 => 5,
                51..=250 => population.div_ceil(10),
                _ => 25,
            },
        }
    }

    /// The most this size can draw from any population (what a draw must keep).
    pub fn at_most(self) -> u64 {
        match self {
            Size::Exactly(k) => k,
            Size::Auto => 25,
        }
    }

    /// As the answer gives it.
    pub fn to_json(self) -> serde_json::Value {
        match self {
            Size::Exactly(k) => k.into(),
            Size::Auto => "auto".into(),
        }
    }
}

/// A record's rank under `seed`.
pub fn rank(seed: &str, id: Uuid) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(seed.as_bytes());
    h.update(b":");
    h.update(id.to_string().as_bytes());
    h.finalize().into()
}

/// A draw in progress: the records with the smallest ranks seen so far.
#[derive(Debug)]
pub struct Draw {
    seed: String,
    keep: usize,
    best: BinaryHeap<([u8; 32], Uuid)>,
    seen: u64,
}

impl Draw {
    /// Starts a draw that keeps what `size` may need.
    pub fn new(seed: &str, size: Size) -> Self {
        let keep = usize::try_from(size.at_most()).unwrap_or(usize::MAX);
        Draw {
            seed: seed.to_string(),
            keep,
            best: BinaryHeap::with_capacity(keep + 1),
            seen: 0,
        }
    }

    /// Offers one record of the population.
    pub fn offer(&mut self, id: Uuid) {
        self.seen += 1;
        let r = (rank(&self.seed, id), id);
        if self.best.len() < self.keep {
            self.best.push(r);
        } else if self.best.peek().is_some_and(|top| r < *top) {
            self.best.pop();
            self.best.push(r);
        }
    }

    /// The population's size so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// The sample, smallest rank first, for a population of the records offered.
    pub fn finish(self, size: Size) -> Vec<Uuid> {
        let n = usize::try_from(size.of(self.seen)).unwrap_or(usize::MAX);
        let mut all = self.best.into_sorted_vec();
        all.truncate(n);
        all.into_iter().map(|(_, id)| id).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u128) -> Vec<Uuid> {
        (1..=n).map(Uuid::from_u128).collect()
    }

    #[test]
    fn auto_follows_the_common_audit_table() {
        for (population, size) in [
            (0, 0),
            (1, 1),
            (5, 5),
            (6, 5),
            (50, 5),
            (51, 6),
            (100, 10),
            (250, 25),
            (251, 25),
            (1_000_000, 25),
        ] {
            assert_eq!(Size::Auto.of(population), size, "{population}");
        }
        assert_eq!(Size::Exactly(40).of(12), 12);
        assert_eq!(Size::Exactly(40).of(400), 40);
    }

    #[test]
    fn the_same_seed_draws_the_same_sample_in_any_order() {
        let draw = |seed: &str, order: &[Uuid]| {
            let mut d = Draw::new(seed, Size::Exactly(7));
            for id in order {
                d.offer(*id);
            }
            d.finish(Size::Exactly(7))
        };
        let population = ids(500);
        let mut reversed = population.clone();
        reversed.reverse();
        let a = draw("audit-2026", &population);
        assert_eq!(a.len(), 7);
        assert_eq!(a, draw("audit-2026", &reversed));
        assert_ne!(a, draw("audit-2027", &population));
        let mut unique = a.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 7, "without replacement");
    }

    #[test]
    fn every_record_is_as_likely_to_be_drawn() {
        // 20 records, 5 drawn, 2,000 seeds: each record is drawn about 500 times.
        let population = ids(20);
        let mut counts = [0_u32; 20];
        for s in 0..2000 {
            let mut d = Draw::new(&format!("seed-{s}"), Size::Auto);
            for id in &population {
                d.offer(*id);
            }
            for id in d.finish(Size::Auto) {
                counts[(id.as_u128() - 1) as usize] += 1;
            }
        }
        assert!(counts.iter().all(|c| (400..=600).contains(c)), "{counts:?}");
    }

    #[test]
    fn sizes_are_read_with_clear_errors() {
        assert_eq!(Size::from_json(&serde_json::json!("auto")), Ok(Size::Auto));
        assert_eq!(
            Size::from_json(&serde_json::json!(12)),
            Ok(Size::Exactly(12))
        );
        for bad in [
            serde_json::json!(0),
            serde_json::json!(1001),
            serde_json::json!(2.5),
            serde_json::json!("all"),
        ] {
            assert!(
                Size::from_json(&bad).unwrap_err().contains("whole number"),
                "{bad}"
            );
        }
    }
}
