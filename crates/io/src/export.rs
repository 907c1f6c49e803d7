//! Writing the register out: CSV in Custodian's own columns, or JSON Lines.
//!
//! An export is streamed page by page, so its memory does not grow with the register, and
//! it re-imports cleanly: `custodian import --match asset_number` of an unchanged export
//! changes nothing. Secrets (the licence key) are never written.

use std::io::Write;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use custodian_app::{App, AppError, Ctx};
use custodian_domain::asset::AssetKind;
use custodian_domain::custom::EntityType;
use custodian_domain::fields::{FieldType, KIND_FIELDS};
use custodian_store::AssetQuery;

use crate::read::guard;

/// The file format of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// CSV with a header row of wire names.
    Csv,
    /// JSON Lines: one asset object per line, as the API shows it.
    Jsonl,
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The register could not be read.
    #[error(transparent)]
    App(#[from] AppError),
    /// The output could not be written.
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
}

/// Assets read per page: big enough to keep round trips few, small enough to keep
/// memory flat.
const PAGE: u32 = 500;

/// The common columns, in the order a reader expects them.
const COMMON_COLUMNS: &[&str] = &[
    "id",
    "asset_number",
    "kind",
    "name",
    "description",
    "owner_id",
    "owner_name",
    "importance",
    "classification",
    "status",
    "location_id",
    "location_name",
    "tags",
    "last_reviewed_at",
    "last_reviewed_by",
    "last_reviewed_by_name",
    "next_review_at",
];

/// The id fields an export names beside themselves, and the column of each name.
const NAMED: &[(&str, &str)] = &[
    ("owner_id", "owner_name"),
    ("location_id", "location_name"),
    ("last_reviewed_by", "last_reviewed_by_name"),
];

/// Adds to a page of assets, as the API shows them, the names of their owners, locations
/// and reviewers (an export is read by people as well as re-imported).
pub async fn name_page(
    app: &App,
    ctx: &Ctx,
    locations: &std::collections::HashMap<String, String>,
    page: &mut [Map<String, Value>],
) -> Result<(), ExportError> {
    let ids: Vec<uuid::Uuid> = page
        .iter()
        .flat_map(|m| {
            ["owner_id", "last_reviewed_by"]
                .iter()
                .filter_map(|k| m.get(*k).and_then(Value::as_str)?.parse().ok())
                .collect::<Vec<_>>()
        })
        .collect();
    let parties = app.party_names(ctx, &ids).await?;
    for m in page.iter_mut() {
        for (id_key, name_key) in NAMED {
            let Some(id) = m.get(*id_key).and_then(Value::as_str) else {
                continue;
            };
            let name = match *id_key {
                "location_id" => locations.get(id).cloned(),
                _ => id.parse().ok().and_then(|i| parties.get(&i).cloned()),
            };
            if let Some(n) = name {
                m.insert((*name_key).to_string(), Value::String(n));
            }
        }
    }
    Ok(())
}

/// Every location's name, by its id's text (as the API's records hold it).
pub async fn location_names(
    app: &App,
    ctx: &Ctx,
) -> Result<std::collections::HashMap<String, String>, ExportError> {
    Ok(app
        .location_names(ctx)
        .await?
        .into_iter()
        .map(|(id, name)| (id.to_string(), name))
        .collect())
}

/// Where a CSV column's cells come from.
enum Source {
    /// A top-level field of the asset's JSON.
    Field(&'static str),
    /// A key of its `custom` object.
    Custom(String),
    /// The whole `external_ids` object, as JSON.
    ///
    /// One column rather than one per system, because the systems are known only once
    /// every asset has been read, and an export must not hold the register in memory.
    ExternalIds,
}

/// Which assets an export writes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Selection {
    /// Only assets of this kind.
    pub kind: Option<AssetKind>,
    /// The register as it stood then, rebuilt from the audit trail, instead of now.
    pub as_at: Option<DateTime<Utc>>,
}

/// Writes the selected assets to `out`; answers how many were written.
pub async fn write_assets(
    app: &App,
    ctx: &Ctx,
    format: Format,
    sel: Selection,
    out: &mut (dyn Write + Send),
) -> Result<u64, ExportError> {
    match format {
        Format::Jsonl => write_jsonl(app, ctx, sel, out).await,
        Format::Csv => write_csv(app, ctx, sel, out).await,
    }
}

/// Calls `each` for every selected asset, page by page, in creation order.
async fn for_each_asset(
    app: &App,
    ctx: &Ctx,
    sel: Selection,
    mut each: impl FnMut(&Map<String, Value>) -> Result<(), ExportError> + Send,
) -> Result<u64, ExportError> {
    let kind = sel.kind;
    let mut written = 0;
    let locations = location_names(app, ctx).await?;
    let to_maps = |items: Vec<Value>| -> Vec<Map<String, Value>> {
        items
            .into_iter()
            .filter_map(|v| match v {
                Value::Object(m) => Some(m),
                _ => None,
            })
            .collect()
    };
    if let Some(at) = sel.as_at {
        let q = AssetQuery {
            limit: PAGE,
            kind,
            ..Default::default()
        };
        let mut from = None;
        loop {
            let page = app.register_as_at(ctx, at, &q, from).await?;
            let mut maps = to_maps(page.items.iter().map(|v| v.to_json()).collect());
            name_page(app, ctx, &locations, &mut maps).await?;
            for m in &maps {
                each(m)?;
                written += 1;
            }
            match page.next {
                Some(c) => from = Some(c),
                None => return Ok(written),
            }
        }
    }
    let mut cursor = None;
    loop {
        let q = AssetQuery {
            limit: PAGE,
            cursor,
            kind,
            ..Default::default()
        };
        let page = app.list_assets(ctx, &q).await?;
        let mut maps = to_maps(page.items.iter().map(|v| v.to_json()).collect());
        name_page(app, ctx, &locations, &mut maps).await?;
        for m in &maps {
            each(m)?;
            written += 1;
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(written),
        }
    }
}

async fn write_jsonl(
    app: &App,
    ctx: &Ctx,
    sel: Selection,
    out: &mut (dyn Write + Send),
) -> Result<u64, ExportError> {
    let mut w = std::io::BufWriter::new(out);
    let n = for_each_asset(app, ctx, sel, |m| {
        serde_json::to_writer(&mut w, m).map_err(std::io::Error::from)?;
        w.write_all(b"\n")?;
        Ok(())
    })
    .await?;
    w.flush()?;
    Ok(n)
}

/// The columns of a CSV export, and how each row is written.
pub struct CsvLayout {
    header: Vec<String>,
    sources: Vec<Source>,
    /// Every location's name, by id (for the `location_name` column).
    pub locations: std::collections::HashMap<String, String>,
}

impl CsvLayout {
    /// The columns for assets of one kind (or all): the common fields, the kind-specific
    /// ones (never the secrets), the register's asset custom fields and the external ids.
    pub async fn new(app: &App, ctx: &Ctx, kind: Option<AssetKind>) -> Result<Self, AppError> {
        let mut header: Vec<String> = Vec::new();
        let mut sources: Vec<Source> = Vec::new();
        for c in COMMON_COLUMNS {
            header.push((*c).to_string());
            sources.push(Source::Field(c));
        }
        for def in KIND_FIELDS {
            let carried = kind.is_none_or(|k| def.kinds.contains(&k));
            if carried && def.ty != FieldType::Secret {
                header.push(def.name.to_string());
                sources.push(Source::Field(def.name));
            }
        }
        for def in app.list_custom_fields(ctx).await? {
            let applies =
                kind.is_none_or(|k| def.asset_kinds.is_empty() || def.asset_kinds.contains(&k));
            if def.entity_type == EntityType::Asset && applies {
                header.push(format!("custom.{}", def.key));
                sources.push(Source::Custom(def.key));
            }
        }
        header.push("external_ids".into());
        sources.push(Source::ExternalIds);
        let locations = match location_names(app, ctx).await {
            Ok(l) => l,
            Err(ExportError::App(e)) => return Err(e),
            Err(e) => return Err(AppError::Internal(e.to_string())),
        };
        Ok(Self {
            header,
            sources,
            locations,
        })
    }

    fn writer(out: Vec<u8>) -> csv::Writer<Vec<u8>> {
        csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(out)
    }

    /// The header row, as bytes.
    pub fn header(&self) -> Vec<u8> {
        let mut w = Self::writer(Vec::new());
        let _ = w.write_record(&self.header);
        w.into_inner().unwrap_or_default()
    }

    /// Rows for assets as the API shows them, as bytes.
    pub fn rows<'a>(&self, assets: impl IntoIterator<Item = &'a Map<String, Value>>) -> Vec<u8> {
        let mut w = Self::writer(Vec::new());
        let mut record: Vec<String> = Vec::with_capacity(self.sources.len());
        for m in assets {
            self.record(m, &mut record);
            let _ = w.write_record(&record);
        }
        w.into_inner().unwrap_or_default()
    }

    fn record(&self, m: &Map<String, Value>, record: &mut Vec<String>) {
        record.clear();
        for s in &self.sources {
            record.push(match s {
                Source::Field(k) => cell(m.get(*k)),
                Source::Custom(k) => cell(
                    m.get("custom")
                        .and_then(Value::as_object)
                        .and_then(|c| c.get(k)),
                ),
                Source::ExternalIds => cell(m.get("external_ids")),
            });
        }
    }
}

async fn write_csv(
    app: &App,
    ctx: &Ctx,
    sel: Selection,
    out: &mut (dyn Write + Send),
) -> Result<u64, ExportError> {
    let layout = CsvLayout::new(app, ctx, sel.kind).await?;
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    w.write_record(&layout.header)
        .map_err(std::io::Error::from)?;
    let mut record: Vec<String> = Vec::with_capacity(layout.sources.len());
    let n = for_each_asset(app, ctx, sel, |m| {
        layout.record(m, &mut record);
        w.write_record(&record).map_err(std::io::Error::from)?;
        Ok(())
    })
    .await?;
    w.flush()?;
    Ok(n)
}

/// One CSV cell: lists joined with `;`, structures as JSON, text guarded against formulas.
fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => guard(s),
        Some(Value::Bool(b)) => b.to_string(),
        // A number cannot carry a formula, so a negative one is written as it is.
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Array(items)) if items.is_empty() => String::new(),
        Some(Value::Array(items)) => {
            let texts: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
            match texts {
                // Joined only when splitting on `;` gives back exactly these items.
                Some(t) if !t.iter().any(|s| s.contains(';')) && !t[0].starts_with('[') => {
                    guard(&t.join("; "))
                }
                _ => Value::Array(items.clone()).to_string(),
            }
        }
        Some(Value::Object(o)) if o.is_empty() => String::new(),
        Some(v @ Value::Object(_)) => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_fixed_columns_leave_the_import_room_for_custom_fields() {
        let kind_columns = KIND_FIELDS
            .iter()
            .filter(|d| d.ty != FieldType::Secret)
            .count();
        let fixed = COMMON_COLUMNS.len() + kind_columns + 1;
        assert_eq!(fixed, 69, "update the count in read::MAX_COLUMNS's comment");
        assert!(fixed * 10 < crate::read::MAX_COLUMNS);
    }

    #[test]
    fn cells_are_written_so_the_reader_gets_them_back() {
        assert_eq!(cell(Some(&json!(["a", "b"]))), "a; b");
        assert_eq!(cell(Some(&json!(["a;b"]))), "[\"a;b\"]");
        assert_eq!(cell(Some(&json!(["[x]"]))), "[\"[x]\"]");
        assert_eq!(cell(Some(&json!(["-a", "b"]))), "'-a; b");
        assert_eq!(cell(Some(&json!([]))), "");
        assert_eq!(cell(Some(&json!({}))), "");
        assert_eq!(cell(Some(&json!({"mdm": "=x"}))), "{\"mdm\":\"=x\"}");
        assert_eq!(cell(Some(&json!(-3))), "-3");
        assert_eq!(cell(Some(&json!("@SUM(A1)"))), "'@SUM(A1)");
        assert_eq!(cell(Some(&json!(1299.5))), "1299.5");
        assert_eq!(
            cell(Some(&json!([{"country": "US", "safeguard": "SCCs"}]))),
            "[{\"country\":\"US\",\"safeguard\":\"SCCs\"}]"
        );
    }
}
