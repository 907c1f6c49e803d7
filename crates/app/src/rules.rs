//! How strictly the register enforces its policy rules: whether issuing an asset to someone
//! who has not acknowledged the acceptable-use policy is refused or only warned about, and
//! the same for assigning more software seats than licences were purchased.

use serde_json::{json, Map, Value};

use custodian_domain::access::Action;
use custodian_store::AccountWrite;
use custodian_store::{ChangeSet, Write};

use crate::{App, AppError, Ctx, Result};

/// Setting: `refuse` (the default) or `warn`.
pub const ACCEPTABLE_USE: &str = "acceptable_use_enforcement";
/// Setting: `warn` (the default) or `refuse`.
pub const LICENCE_OVERALLOCATION: &str = "licence_overallocation";

/// What a rule does when it is broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enforcement {
    /// The change is refused, naming the rule.
    Refuse,
    /// The change is made and the warning recorded with it.
    Warn,
}

impl Enforcement {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "refuse" => Some(Enforcement::Refuse),
            "warn" => Some(Enforcement::Warn),
            _ => None,
        }
    }

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Enforcement::Refuse => "refuse",
            Enforcement::Warn => "warn",
        }
    }
}

/// The rules with their defaults.
const RULES: &[(&str, Enforcement)] = &[
    (ACCEPTABLE_USE, Enforcement::Refuse),
    (LICENCE_OVERALLOCATION, Enforcement::Warn),
];

/// How strictly each policy rule is enforced, in [`RULES`]' order; on the wire an object
/// of `refuse` or `warn` by rule, its schema made from the same table.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleSettings(pub Vec<(&'static str, Enforcement)>);

impl RuleSettings {
    /// How a rule is enforced.
    pub fn get(&self, rule: &str) -> Option<Enforcement> {
        self.0.iter().find(|(k, _)| *k == rule).map(|(_, e)| *e)
    }
}

impl serde::Serialize for RuleSettings {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, e) in &self.0 {
            m.serialize_entry(k, e.as_str())?;
        }
        m.end()
    }
}

impl schemars::JsonSchema for RuleSettings {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RuleSettings".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let props: Map<String, Value> = RULES
            .iter()
            .map(|(k, _)| {
                (
                    (*k).to_string(),
                    json!({"type": "string", "enum": ["refuse", "warn"]}),
                )
            })
            .collect();
        let keys: Vec<&str> = RULES.iter().map(|(k, _)| *k).collect();
        schemars::json_schema!({
            "type": "object",
            "description": "How strictly each policy rule is enforced: refuse the change, naming the rule, or make it and record the warning.",
            "properties": props,
            "required": keys,
            "additionalProperties": false,
        })
    }
}

impl App {
    /// How a rule is enforced now.
    pub(crate) async fn enforcement(&self, rule: &str) -> Result<Enforcement> {
        let default = RULES
            .iter()
            .find(|(k, _)| *k == rule)
            .map(|(_, e)| *e)
            .unwrap_or(Enforcement::Refuse);
        Ok(self
            .store
            .setting(rule)
            .await?
            .as_deref()
            .and_then(Enforcement::parse)
            .unwrap_or(default))
    }

    /// The policy rule settings (anyone signed in may read them: they decide what is refused).
    pub async fn rule_settings(&self, ctx: &Ctx) -> Result<RuleSettings> {
        self.allow(ctx, Action::ReadReference).await?;
        let mut out = Vec::with_capacity(RULES.len());
        for (k, _) in RULES {
            out.push((*k, self.enforcement(k).await?));
        }
        Ok(RuleSettings(out))
    }

    /// Changes the policy rule settings (admins): each `refuse` or `warn`.
    pub async fn update_rule_settings(
        &self,
        ctx: &Ctx,
        body: &Map<String, Value>,
    ) -> Result<RuleSettings> {
        self.allow(ctx, Action::ManagePolicies).await?;
        let keys: Vec<&str> = RULES.iter().map(|(k, _)| *k).collect();
        let mut r = custodian_domain::input::Input::new(body);
        r.reject_unknown(&keys, &[], "the policy rule settings");
        r.refuse_null(&keys);
        let mut wanted = Vec::new();
        for k in &keys {
            if let Some(Some(v)) = r.optional(k, |v| {
                custodian_domain::value::choice(v, &["refuse", "warn"])
            }) {
                wanted.push((*k, v));
            }
        }
        if !r.problems.is_empty() {
            return Err(AppError::Invalid(r.problems));
        }
        // Every setting changed in one request lands together, under one event.
        let mut set = ChangeSet::default();
        let mut changes = Map::new();
        for (k, v) in wanted {
            let before = self.enforcement(k).await?.as_str();
            if before == v {
                continue;
            }
            changes.insert(k.into(), json!({"before": before, "after": v}));
            set.writes.push(Write::Account(AccountWrite::SetSetting {
                key: k.into(),
                value: Some(v),
            }));
        }
        if !changes.is_empty() {
            set.events.push(self.event(
                ctx,
                "settings.updated",
                "settings",
                "policy_rules",
                Value::Object(changes),
            ));
            self.store.commit(set).await?;
        }
        self.rule_settings(ctx).await
    }
}
