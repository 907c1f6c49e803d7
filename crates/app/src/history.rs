//! The audit trail read as a history (SPEC §12, the auditor's day): newest first, filtered
//! by actor, action, record and time, with names in place of ids.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use uuid::Uuid;

use custodian_domain::access::Action;
use custodian_domain::audit::Event;
use custodian_store::{EventQuery, MatchKey};

use crate::{App, Ctx, Result};

/// What a history asks for.
#[derive(Clone, Debug, Default)]
pub struct HistoryQuery {
    /// Page size.
    pub limit: u32,
    /// Only events before this one (the next page of a history).
    pub before: Option<i64>,
    /// By this actor (`user:ID`, its tokens included; `system`, `local`).
    pub actor: Option<String>,
    /// This action, or every action under a prefix ending in `.`.
    pub action: Option<String>,
    /// About records of this type.
    pub entity_type: Option<String>,
    /// About this record.
    pub entity_id: Option<String>,
    /// Recorded at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Recorded at or before this time.
    pub to: Option<DateTime<Utc>>,
}

/// A page of the audit trail read as a history.
#[derive(Clone, Debug)]
pub struct HistoryPage {
    /// The events that match, newest first.
    pub events: Vec<Event>,
    /// The events the page read, oldest and newest (by number).
    pub examined: (i64, i64),
    /// Where the next page starts: below this event.
    pub next: Option<i64>,
}

/// The most events a filtered page of the history reads.
pub const EXAMINED_AT_MOST: u32 = 20_000;

/// The most users looked up by id for one page's names.
const USERS_NAMED: usize = 100;

/// Every id-shaped text in a value, deeply.
fn ids_in(v: &Value, out: &mut HashSet<Uuid>) {
    match v {
        Value::String(s) => {
            if let Ok(id) = s.parse::<Uuid>() {
                out.insert(id);
            }
        }
        Value::Array(l) => l.iter().for_each(|x| ids_in(x, out)),
        Value::Object(m) => m.values().for_each(|x| ids_in(x, out)),
        _ => {}
    }
}

/// The user an actor text names (`user:ID` or `user:ID/token:…`).
fn actor_user(actor: &str) -> Option<Uuid> {
    let rest = actor.strip_prefix("user:")?;
    rest.split('/').next()?.parse().ok()
}

/// The events a page reads: those after the returned number and before `before`; no more
/// than `budget` of them unless the page follows a record along its index. `floor`: the
/// last event before the range asked for.
fn window(floor: i64, before: i64, along_record: bool, budget: i64) -> i64 {
    if along_record {
        floor
    } else {
        floor.max(before - 1 - budget)
    }
}

/// Where the page after this one starts: below its last event when it is full, else below
/// the window it read while the range goes on.
fn next_page(full: bool, last: Option<i64>, after: i64, floor: i64) -> Option<i64> {
    match last {
        Some(seq) if full => Some(seq),
        _ if after > floor => Some(after + 1),
        _ => None,
    }
}

impl App {
    /// A page of the audit trail, newest first (auditors and admins: readers of the trail),
    /// and where the next page starts (`before`), if the trail goes on.
    ///
    /// The trail is not indexed by actor or action (each index would cost every write), so
    /// a page filtered by them reads at most [`EXAMINED_AT_MOST`] events, newest first, and
    /// says where to go on: a rare filter takes more pages, each bounded. A record's
    /// history (type and id) is read along its own index.
    pub async fn audit_history(&self, ctx: &Ctx, q: &HistoryQuery) -> Result<HistoryPage> {
        self.allow(ctx, Action::ReadAudit).await?;
        // Times never go back along the chain, so a time range is a range of events; and
        // events are numbered without gaps, so a window of them is a range of numbers.
        let floor = match q.from {
            Some(t) => {
                self.store
                    .audit_head_at(t - TimeDelta::microseconds(1))
                    .await?
                    .0
            }
            None => 0,
        };
        let mut before = self.store.audit_head().await?.0 + 1;
        if let Some(b) = q.before {
            before = before.min(b);
        }
        if let Some(t) = q.to {
            before = before.min(self.store.audit_head_at(t).await?.0 + 1);
        }
        let along_record = q.entity_type.is_some() && q.entity_id.is_some();
        let after = window(floor, before, along_record, i64::from(EXAMINED_AT_MOST));
        let events = self
            .store
            .search_events(&EventQuery {
                limit: q.limit,
                before: Some(before),
                after: Some(after),
                actor: q.actor.clone(),
                action: q.action.clone(),
                entity_type: q.entity_type.clone(),
                entity_id: q.entity_id.clone(),
            })
            .await?;
        let full = events.len() >= q.limit.clamp(1, 500) as usize;
        let next = next_page(full, events.last().map(|e| e.seq), after, floor);
        Ok(HistoryPage {
            events,
            examined: (after + 1, before - 1),
            next,
        })
    }

    /// Names for what events mention: their actors (by the text of the actor), and every id
    /// in their records and changes that names a party, an asset, a location, a user or a
    /// policy the caller may see (by the id's text). What is not found keeps its id.
    pub async fn names_in(&self, ctx: &Ctx, events: &[Event]) -> Result<HashMap<String, String>> {
        self.allow(ctx, Action::ReadReference).await?;
        let mut ids: HashSet<Uuid> = HashSet::new();
        let mut users: HashSet<Uuid> = HashSet::new();
        for e in events {
            if let Ok(id) = e.entity_id.parse::<Uuid>() {
                ids.insert(id);
            }
            if let Ok(v) = serde_json::from_str::<Value>(&e.changes) {
                ids_in(&v, &mut ids);
            }
            users.extend(actor_user(&e.actor));
            if e.entity_type == "user" {
                users.extend(e.entity_id.parse::<Uuid>().ok());
            }
        }
        let mut names: HashMap<Uuid, String> = HashMap::new();
        let mut user_people: HashMap<Uuid, Option<Uuid>> = HashMap::new();
        let reads_all = self.authorize(ctx, Action::ReadAudit).await.is_ok();
        for u in users.iter().take(USERS_NAMED) {
            if let Some(user) = self.store.user(*u).await? {
                if reads_all {
                    names.insert(user.id, user.email.clone());
                }
                user_people.insert(user.id, user.person_id);
                ids.extend(user.person_id);
            }
        }
        let wanted: Vec<Uuid> = ids.iter().copied().collect();
        names.extend(self.party_names(ctx, &wanted).await?);
        if self.authorize(ctx, Action::ReadRegister).await.is_ok() {
            let texts: Vec<String> = wanted.iter().map(Uuid::to_string).collect();
            for a in self.store.find_assets(MatchKey::Id, &texts).await? {
                names.insert(a.id, format!("{} {}", a.asset_number, a.name));
            }
        }
        for (id, name) in self.location_names(ctx).await? {
            if ids.contains(&id) {
                names.insert(id, name);
            }
        }
        for e in events.iter().filter(|e| e.entity_type == "policy") {
            if let Ok(id) = e.entity_id.parse::<Uuid>() {
                if let Some(p) = self.store.policy(id).await? {
                    names.insert(id, format!("{} {}", p.title, p.number));
                }
            }
        }
        let mut out: HashMap<String, String> = names
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        for e in events {
            let who = match e.actor.as_str() {
                "system" => Some("Custodian".to_string()),
                "local" => Some("the command line".to_string()),
                "anonymous" => Some("someone not signed in".to_string()),
                a => actor_user(a).and_then(|u| {
                    let person = user_people.get(&u).copied().flatten();
                    let name = person
                        .and_then(|p| names.get(&p))
                        .or_else(|| names.get(&u))
                        .cloned()?;
                    Some(if a.contains("/token:") {
                        format!("{name} (API token)")
                    } else {
                        name
                    })
                }),
            };
            if let Some(w) = who {
                out.insert(e.actor.clone(), w);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filtered_page_reads_a_bounded_window_and_says_where_to_go_on() {
        // Events 1..=100; ten read a page.
        assert_eq!(window(0, 101, false, 10), 90, "events 91 to 100");
        assert_eq!(next_page(false, None, 90, 0), Some(91), "then below 91");
        assert_eq!(window(0, 91, false, 10), 80);
        assert_eq!(
            window(0, 11, false, 10),
            0,
            "the last window reaches the start"
        );
        assert_eq!(
            next_page(false, Some(3), 0, 0),
            None,
            "and the trail ends there"
        );
        // A full page goes on below its last event; a range's floor bounds the window.
        assert_eq!(next_page(true, Some(95), 90, 0), Some(95));
        assert_eq!(window(50, 101, false, 100), 50);
        assert_eq!(next_page(false, None, 50, 50), None);
        // A record's events are read along its index, the whole range at once.
        assert_eq!(window(0, 1_000_001, true, 10), 0);
    }

    #[test]
    fn actors_and_ids_are_read_from_their_texts() {
        let u = Uuid::from_u128(7);
        assert_eq!(actor_user(&format!("user:{u}")), Some(u));
        assert_eq!(actor_user(&format!("user:{u}/token:{u}")), Some(u));
        assert_eq!(actor_user("system"), None);
        let mut ids = HashSet::new();
        ids_in(
            &serde_json::json!({"owner_id": {"before": u.to_string(), "after": null}, "asset_ids": [u.to_string(), "x"]}),
            &mut ids,
        );
        assert_eq!(ids.into_iter().collect::<Vec<_>>(), [u]);
    }
}
