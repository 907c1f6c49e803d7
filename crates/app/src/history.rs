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

impl App {
    /// A page of the audit trail, newest first (auditors and admins: readers of the trail).
    pub async fn audit_history(&self, ctx: &Ctx, q: &HistoryQuery) -> Result<Vec<Event>> {
        self.allow(ctx, Action::ReadAudit).await?;
        // Times never go back along the chain, so a time range is a range of events.
        let after = match q.from {
            Some(t) => Some(
                self.store
                    .audit_head_at(t - TimeDelta::microseconds(1))
                    .await?
                    .0,
            ),
            None => None,
        };
        let mut before = q.before;
        if let Some(t) = q.to {
            let last = self.store.audit_head_at(t).await?.0 + 1;
            before = Some(before.map_or(last, |b| b.min(last)));
        }
        Ok(self
            .store
            .search_events(&EventQuery {
                limit: q.limit,
                before,
                after,
                actor: q.actor.clone(),
                action: q.action.clone(),
                entity_type: q.entity_type.clone(),
                entity_id: q.entity_id.clone(),
            })
            .await?)
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
        let mut cursor = None;
        loop {
            let page = self.store.list_locations(500, cursor).await?;
            for l in page.items.into_iter().filter(|l| ids.contains(&l.id)) {
                names.insert(l.id, l.name);
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
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
