//! Asset pages, one file per reason to change: the list with its filters, columns, paging and CSV export; an asset's
//! page with its record, completeness, relations and history; the forms to register,
//! edit, move along the lifecycle and dispose of an asset.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use custodian_app::assets::AssetView;
use custodian_app::AppError;
use custodian_domain::asset::{Asset, AssetKind, Importance};
use custodian_domain::classification::Classification;
use custodian_domain::custom::{CustomFieldDef, CustomType, EntityType};
use custodian_domain::fields::{self, FieldDef, FieldType};
use custodian_domain::lifecycle::{DisposalMethod, Status};
use custodian_domain::FieldError;
use custodian_store::{AssetQuery, PartyRef};

use super::{
    badge, csrf, error_page, field, html_response, ok, page, query_string, when, words, Control,
    Errors, Form, Nav, PageId, Viewer,
};
use crate::extract::Params;
use crate::AppState;

mod custody;
mod export;
mod forms;
mod lifecycle;
pub(in crate::ui) mod list;
mod page;

pub use custody::*;
pub use export::*;
pub use forms::*;
pub use lifecycle::*;
pub use list::*;
pub use page::*;

/// The list's filters, in the order the form shows them.
pub(super) const FILTER_KEYS: &[&str] = &[
    "q",
    "kind",
    "status",
    "owner_id",
    "classification",
    "importance",
    "location_id",
    "tag",
    "review_overdue",
    "orphaned",
    "incomplete",
    "finding",
    "sort",
];

/// The label of a common field, as a policy reader knows it.
fn common_label(kind: AssetKind, name: &str) -> &'static str {
    let device = matches!(kind, AssetKind::Physical | AssetKind::Virtual);
    match name {
        "asset_number" => "Asset number",
        "kind" => "Kind",
        "name" => "Name",
        "description" => "Description",
        "owner_id" => "Owner (accountable)",
        "importance" => "Importance",
        "classification" => "Classification",
        "status" => "Status",
        "location_id" => "Location",
        "tags" => "Tags",
        "last_reviewed_at" if device => "Last checked",
        "last_reviewed_at" => "Last reviewed",
        "last_reviewed_by" if device => "Last checked by",
        "last_reviewed_by" => "Last reviewed by",
        "next_review_at" => "Next review due",
        _ => "",
    }
}

/// Reference data the pages show names from and forms offer.
struct Choices {
    parties: Vec<PartyRef>,
    locations: Vec<(Uuid, String)>,
    levels: Vec<Classification>,
    custom: Vec<CustomFieldDef>,
}

impl Choices {
    async fn load(s: &AppState, v: &Viewer) -> Result<Self, AppError> {
        let parties = s.app.party_choices(&v.ctx).await?;
        let locations = s
            .app
            .list_locations(&v.ctx, 500, None)
            .await?
            .items
            .into_iter()
            .map(|l| (l.id, l.name))
            .collect();
        let levels = s.app.list_classifications(&v.ctx).await?;
        let custom = s
            .app
            .list_custom_fields(&v.ctx)
            .await?
            .into_iter()
            .filter(|d| d.entity_type == EntityType::Asset)
            .collect();
        Ok(Choices {
            parties,
            locations,
            levels,
            custom,
        })
    }

    /// Adds the parties an asset names (its owner, its reviewer) when the viewer's own
    /// choices lack them, so that its form shows and keeps them.
    async fn with_named(mut self, s: &AppState, v: &Viewer, a: &Asset) -> Self {
        let mut wanted = vec![a.owner_id];
        wanted.extend(a.last_reviewed_by);
        wanted.retain(|id| !self.parties.iter().any(|p| p.id == *id));
        if !wanted.is_empty() {
            if let Ok(names) = s.app.party_names(&v.ctx, &wanted).await {
                for (id, name) in names {
                    self.parties.push(PartyRef {
                        id,
                        kind: custodian_domain::party::PartyKind::Person,
                        name,
                        email: None,
                    });
                }
            }
        }
        self
    }

    fn party_options(&self, persons_only: bool) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .parties
            .iter()
            .filter(|p| !persons_only || p.kind == custodian_domain::party::PartyKind::Person)
            .map(|p| {
                let label = match &p.email {
                    Some(e) => format!("{} ({}, {e})", p.name, p.kind),
                    None => format!("{} ({})", p.name, p.kind),
                };
                (p.id.to_string(), label)
            })
            .collect();
        out.sort_by_key(|a| a.1.to_lowercase());
        out
    }

    fn location_options(&self) -> Vec<(String, String)> {
        self.locations
            .iter()
            .map(|(id, n)| (id.to_string(), n.clone()))
            .collect()
    }

    fn level_options(&self) -> Vec<(String, String)> {
        self.levels
            .iter()
            .map(|l| (l.key.clone(), l.name.clone()))
            .collect()
    }

    fn level_name(&self, key: &str) -> String {
        self.levels
            .iter()
            .find(|l| l.key == key)
            .map(|l| l.name.clone())
            .unwrap_or_else(|| key.to_string())
    }

    fn location_name(&self, id: Uuid) -> String {
        self.locations
            .iter()
            .find(|(l, _)| *l == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| id.to_string())
    }
}

fn word_options(names: &[&str]) -> Vec<(String, String)> {
    names.iter().map(|n| (n.to_string(), words(n))).collect()
}

/// The value of a field for display.
fn shown_value(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => s.clone(),
                Value::Object(o) => o.values().map(shown_value).collect::<Vec<_>>().join(": "),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("; "),
        Value::Object(o) => o
            .iter()
            .map(|(k, v)| format!("{k}: {}", shown_value(v)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// A field's value as a form shows it (lists with `;`).
fn form_value(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Array(items))
            if items
                .iter()
                .all(|i| matches!(i, Value::Object(_)) && i.get("country").is_some()) =>
        {
            items
                .iter()
                .map(|i| {
                    format!(
                        "{}: {}",
                        i["country"].as_str().unwrap_or(""),
                        i["safeguard"].as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        }
        Some(v) => shown_value(v),
    }
}

fn date_only(v: &str) -> String {
    v.get(..10).unwrap_or(v).to_string()
}

fn label_of(kind: AssetKind, name: &str) -> String {
    let common = common_label(kind, name);
    if !common.is_empty() {
        return common.to_string();
    }
    fields::field(name)
        .map(|d| d.label.to_string())
        .unwrap_or_else(|| words(name))
}
