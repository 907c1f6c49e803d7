//! Reference data: locations, the classification scheme, custom field definitions: their SQL.

use custodian_domain::asset::AssetKind;
use custodian_domain::classification::{Classification, DisposalRequirement, Handling};
use custodian_domain::custom::{CustomFieldDef, CustomType, EntityType};
use custodian_domain::location::{Location, LocationKind};
use custodian_store::{Result, StoreError};
use serde_json::Value;
use uuid::Uuid;

use super::*;
use crate::db::{Row, Sql};
use crate::rows::{object, strings, word};
use crate::tx::SqlTx;
use custodian_store::*;

pub const LOCATION_COLS: &str =
    "seq, id, name, kind, parent_id, on_premises, address, custom, version, created_at, updated_at";

pub const CLASSIFICATION_COLS: &str = "key, name, rank, description, encryption_required, off_premises, external_sharing, label_required, disposal_method, review_interval_days, version, created_at, updated_at";

pub const CUSTOM_FIELD_COLS: &str = "id, entity_type, key, label, field_type, choices, required, asset_kinds, description, version, created_at, updated_at";

pub fn location(row: &Row) -> Result<(i64, Location)> {
    Ok((
        row.get("seq")?,
        Location {
            id: row.get("id")?,
            name: row.get("name")?,
            kind: word(row, "kind", LocationKind::parse)?,
            parent_id: row.get("parent_id")?,
            on_premises: row.get("on_premises")?,
            address: row.get("address")?,
            custom: object(row, "custom")?,
            version: row.get("version")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        },
    ))
}

pub fn classification(row: &Row) -> Result<Classification> {
    Ok(Classification {
        key: row.get("key")?,
        name: row.get("name")?,
        rank: i32::try_from(row.get::<i64>("rank")?).unwrap_or(i32::MAX),
        description: row.get("description")?,
        encryption_required: row.get("encryption_required")?,
        off_premises: word(row, "off_premises", Handling::parse)?,
        external_sharing: word(row, "external_sharing", Handling::parse)?,
        label_required: row.get("label_required")?,
        disposal_method: word(row, "disposal_method", DisposalRequirement::parse)?,
        review_interval_days: i32::try_from(row.get::<i64>("review_interval_days")?).unwrap_or(365),
        version: row.get("version")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

pub fn custom_field(row: &Row) -> Result<CustomFieldDef> {
    Ok(CustomFieldDef {
        id: row.get("id")?,
        entity_type: word(row, "entity_type", EntityType::parse)?,
        key: row.get("key")?,
        label: row.get("label")?,
        field_type: word(row, "field_type", CustomType::parse)?,
        choices: strings(row, "choices")?,
        required: row.get("required")?,
        asset_kinds: strings(row, "asset_kinds")?
            .iter()
            .filter_map(|s| AssetKind::parse(s))
            .collect(),
        description: row.get("description")?,
        version: row.get("version")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

pub fn location_values(l: &Location) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("id", l.id.into()),
        ("name", l.name.clone().into()),
        ("kind", l.kind.as_str().into()),
        ("parent_id", l.parent_id.into()),
        ("on_premises", l.on_premises.into()),
        ("address", l.address.clone().into()),
        ("custom", Value::Object(l.custom.clone()).into()),
        ("version", l.version.into()),
        ("created_at", l.created_at.into()),
        ("updated_at", l.updated_at.into()),
    ]
}

pub fn classification_values(c: &Classification) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("key", c.key.clone().into()),
        ("name", c.name.clone().into()),
        ("rank", i64::from(c.rank).into()),
        ("description", c.description.clone().into()),
        ("encryption_required", c.encryption_required.into()),
        ("off_premises", c.off_premises.as_str().into()),
        ("external_sharing", c.external_sharing.as_str().into()),
        ("label_required", c.label_required.into()),
        ("disposal_method", c.disposal_method.as_str().into()),
        (
            "review_interval_days",
            i64::from(c.review_interval_days).into(),
        ),
        ("version", c.version.into()),
        ("created_at", c.created_at.into()),
        ("updated_at", c.updated_at.into()),
    ]
}

pub fn custom_field_values(d: &CustomFieldDef) -> Vec<(&'static str, crate::db::Arg)> {
    let list = |v: Vec<String>| Value::Array(v.into_iter().map(Value::String).collect());
    vec![
        ("id", d.id.into()),
        ("entity_type", d.entity_type.as_str().into()),
        ("key", d.key.clone().into()),
        ("label", d.label.clone().into()),
        ("field_type", d.field_type.as_str().into()),
        ("choices", list(d.choices.clone()).into()),
        ("required", d.required.into()),
        (
            "asset_kinds",
            list(
                d.asset_kinds
                    .iter()
                    .map(|k| k.as_str().to_string())
                    .collect(),
            )
            .into(),
        ),
        ("description", d.description.clone().into()),
        ("version", d.version.into()),
        ("created_at", d.created_at.into()),
        ("updated_at", d.updated_at.into()),
    ]
}

#[async_trait]
impl ReferenceStore for SqlStore {
    async fn location(&self, id: Uuid) -> Result<Option<Location>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM locations WHERE id = $1",
            rows::LOCATION_COLS
        ))
        .bind(id);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| rows::location(&r).map(|(_, l)| l))
            .transpose()
    }

    async fn list_locations(&self, limit: u32, cursor: Option<Cursor>) -> Result<Page<Location>> {
        let listing = Listing {
            cols: rows::LOCATION_COLS,
            from: "locations",
            key: "seq",
            conds: vec![],
            cursor,
            limit,
        };
        self.fetch_page(Sql::new(""), listing, rows::location).await
    }

    async fn classifications(&self) -> Result<Vec<Classification>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM classifications ORDER BY rank",
            rows::CLASSIFICATION_COLS
        ));
        self.pools.fetch_rows(sql, rows::classification).await
    }

    async fn classification_usage(&self, key: &str) -> Result<i64> {
        self.pools
            .fetch_one(
                Sql::new("SELECT COUNT(*) AS n FROM assets WHERE classification = $1").bind(key),
            )
            .await?
            .get("n")
    }

    async fn custom_fields(&self) -> Result<Vec<CustomFieldDef>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM custom_fields ORDER BY seq",
            rows::CUSTOM_FIELD_COLS
        ));
        self.pools.fetch_rows(sql, rows::custom_field).await
    }

    async fn location_subtree(&self, root: Uuid) -> Result<Vec<Uuid>> {
        self.location_subtree_sql(root).await
    }
}

impl SqlTx {
    /// Applies a change to reference data: locations, the classification scheme, custom field definitions.
    pub(crate) async fn write_reference(&mut self, w: ReferenceWrite) -> Result<()> {
        match w {
            ReferenceWrite::InsertLocation(l) => self
                .conn
                .execute(rows::insert("locations", rows::location_values(&l)))
                .await
                .map(drop),
            ReferenceWrite::UpdateLocation {
                location,
                expected_version,
            } => {
                let n = self
                    .conn
                    .execute(rows::update_versioned(
                        "locations",
                        "id",
                        location.id.into(),
                        rows::location_values(&location),
                        expected_version,
                    ))
                    .await?;
                if n == 0 {
                    return Err(self
                        .missing_or_stale(
                            "locations",
                            "location",
                            location.id.into(),
                            location.id.to_string(),
                            expected_version,
                        )
                        .await);
                }
                Ok(())
            }
            ReferenceWrite::InsertClassification(c) => self
                .conn
                .execute(rows::insert(
                    "classifications",
                    rows::classification_values(&c),
                ))
                .await
                .map(drop),
            ReferenceWrite::UpdateClassification {
                level,
                expected_version,
            } => {
                let n = self
                    .conn
                    .execute(rows::update_versioned(
                        "classifications",
                        "key",
                        level.key.clone().into(),
                        rows::classification_values(&level),
                        expected_version,
                    ))
                    .await?;
                if n == 0 {
                    return Err(self
                        .missing_or_stale(
                            "classifications",
                            "classification",
                            level.key.clone().into(),
                            level.key.clone(),
                            expected_version,
                        )
                        .await);
                }
                Ok(())
            }
            ReferenceWrite::DeleteClassification(key) => {
                let n = self
                    .conn
                    .execute(
                        Sql::new("DELETE FROM classifications WHERE key = $1").bind(key.clone()),
                    )
                    .await?;
                if n == 0 {
                    return Err(StoreError::NotFound {
                        entity: "classification",
                        id: key,
                    });
                }
                Ok(())
            }
            ReferenceWrite::InsertCustomField(d) => self
                .conn
                .execute(rows::insert("custom_fields", rows::custom_field_values(&d)))
                .await
                .map(drop),
            ReferenceWrite::UpdateCustomField {
                def,
                expected_version,
            } => {
                let n = self
                    .conn
                    .execute(rows::update_versioned(
                        "custom_fields",
                        "id",
                        def.id.into(),
                        rows::custom_field_values(&def),
                        expected_version,
                    ))
                    .await?;
                if n == 0 {
                    return Err(self
                        .missing_or_stale(
                            "custom_fields",
                            "custom field",
                            def.id.into(),
                            def.id.to_string(),
                            expected_version,
                        )
                        .await);
                }
                Ok(())
            }
            ReferenceWrite::DeleteCustomField(id) => {
                let n = self
                    .conn
                    .execute(Sql::new("DELETE FROM custom_fields WHERE id = $1").bind(id))
                    .await?;
                if n == 0 {
                    return Err(StoreError::NotFound {
                        entity: "custom field",
                        id: id.to_string(),
                    });
                }
                Ok(())
            }
        }
    }
}
