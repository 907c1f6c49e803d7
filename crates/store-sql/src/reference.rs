//! Reference data: locations, the classification scheme, custom field definitions: their SQL.

use super::*;
use crate::tx::SqlTx;
use custodian_store::*;

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
        self.pools
            .fetch_all(sql)
            .await?
            .iter()
            .map(rows::classification)
            .collect()
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
        self.pools
            .fetch_all(sql)
            .await?
            .iter()
            .map(rows::custom_field)
            .collect()
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
