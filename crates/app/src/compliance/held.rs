//! What assets hold through `stores` and `contains`, however deep: the levels that make up
//! their effective level (SPEC §8), read for many assets at once.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

use custodian_domain::asset::{Asset, RelationType};
use custodian_store::MatchKey;

use crate::{App, Result};

/// How many links deep a holding is followed: a chain longer than this is a modelling
/// loop more than a fact of handling.
const MAX_DEPTH: usize = 8;

/// A level an asset carries through what it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldLevel {
    /// Through what, in words: "what it stores: AST-000042 Payroll › what it contains: …".
    pub because: String,
    /// The level's key.
    pub level: String,
}

fn holds(t: RelationType) -> bool {
    matches!(t, RelationType::Stores | RelationType::Contains)
}

impl App {
    /// For each of `roots`, the levels of what it stores or contains, directly or through
    /// what that holds, each once, nearest first. `known_links` are the roots' relations
    /// when the caller has read them already.
    pub(crate) async fn held_levels(
        &self,
        roots: &[Asset],
        known_links: Option<&[custodian_domain::asset::Relation]>,
    ) -> Result<HashMap<Uuid, Vec<HeldLevel>>> {
        // Everything reachable, read level by level: the assets and their holding links.
        let mut known: HashMap<Uuid, (String, String, String)> = roots
            .iter()
            .map(|a| {
                (
                    a.id,
                    (
                        a.asset_number.clone(),
                        a.name.clone(),
                        a.classification.clone(),
                    ),
                )
            })
            .collect();
        let mut links: HashMap<Uuid, Vec<(Uuid, RelationType)>> = HashMap::new();
        let mut frontier: Vec<Uuid> = roots.iter().map(|a| a.id).collect();
        let mut expanded: HashSet<Uuid> = HashSet::new();
        for depth in 0..MAX_DEPTH {
            frontier.retain(|id| expanded.insert(*id));
            if frontier.is_empty() {
                break;
            }
            let from: HashSet<Uuid> = frontier.iter().copied().collect();
            let mut next = Vec::new();
            let rels = match (depth, known_links) {
                (0, Some(r)) => r.to_vec(),
                _ => self.store.relations_of(&frontier).await?,
            };
            for r in rels {
                if holds(r.relation_type) && from.contains(&r.from_id) {
                    links
                        .entry(r.from_id)
                        .or_default()
                        .push((r.to_id, r.relation_type));
                    next.push(r.to_id);
                }
            }
            let unknown: Vec<String> = next
                .iter()
                .filter(|id| !known.contains_key(id))
                .map(Uuid::to_string)
                .collect();
            if !unknown.is_empty() {
                for a in self.store.find_assets(MatchKey::Id, &unknown).await? {
                    known.insert(a.id, (a.asset_number, a.name, a.classification));
                }
            }
            frontier = next;
        }
        let mut out = HashMap::new();
        for root in roots {
            let mut levels = Vec::new();
            let mut seen: HashSet<Uuid> = HashSet::from([root.id]);
            // Breadth first, so that the nearest holding names a level first.
            let mut queue: Vec<(Uuid, String)> = vec![(root.id, String::new())];
            let mut i = 0;
            while i < queue.len() {
                let (at, path) = queue[i].clone();
                i += 1;
                for (to, t) in links.get(&at).into_iter().flatten() {
                    if !seen.insert(*to) {
                        continue;
                    }
                    let Some((number, name, level)) = known.get(to) else {
                        continue;
                    };
                    let step = format!("what it {}: {number} {name}", t.as_str().replace('_', " "));
                    let because = if path.is_empty() {
                        step
                    } else {
                        format!("{path} › {step}")
                    };
                    levels.push(HeldLevel {
                        because: because.clone(),
                        level: level.clone(),
                    });
                    queue.push((*to, because));
                }
            }
            out.insert(root.id, levels);
        }
        Ok(out)
    }

    /// The assets that hold any of `ids` through `stores` or `contains`, however deep:
    /// their effective level follows the levels of `ids`.
    pub(crate) async fn holders_of(&self, ids: &[Uuid]) -> Result<Vec<Uuid>> {
        let mut out: HashSet<Uuid> = HashSet::new();
        let mut frontier: Vec<Uuid> = ids.to_vec();
        for _ in 0..MAX_DEPTH {
            if frontier.is_empty() {
                break;
            }
            let to: HashSet<Uuid> = frontier.iter().copied().collect();
            let mut next = Vec::new();
            for r in self.store.relations_of(&frontier).await? {
                if holds(r.relation_type) && to.contains(&r.to_id) && out.insert(r.from_id) {
                    next.push(r.from_id);
                }
            }
            frontier = next;
        }
        Ok(out.into_iter().collect())
    }
}
