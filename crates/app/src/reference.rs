//! Reference data use cases: locations, the classification scheme, custom fields.

use serde_json::{Map, Value};
use uuid::Uuid;

use custodian_domain::access::Action;

use custodian_domain::audit::{self, NewEvent};
use custodian_domain::classification::{self, Classification};
use custodian_domain::custom::CustomFieldDef;
use custodian_domain::location::Location;
use custodian_store::ReferenceWrite;
use custodian_store::{ChangeSet, Cursor, Page, Write};

use crate::Precondition;
use crate::{check_version, App, AppError, Ctx, Result};

fn view<T: serde::Serialize>(v: &T) -> Map<String, Value> {
    let mut m = match serde_json::to_value(v) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for k in ["id", "version", "created_at", "updated_at"] {
        m.remove(k);
    }
    m
}

impl App {
    /// Seeds the four default classification levels into a brand-new register.
    pub async fn ensure_defaults(&self, ctx: &Ctx) -> Result<bool> {
        self.store.use_chain_key(self.sealer().chain_key()).await?;
        let (seq, _) = self.store.audit_head().await?;
        if seq > 0 || !self.store.classifications().await?.is_empty() {
            return Ok(false);
        }
        let now = custodian_domain::now();
        let mut cs = ChangeSet::default();
        for l in classification::defaults(now) {
            cs.events.push(NewEvent::new(
                &ctx.actor,
                "classification.created",
                "classification",
                &l.key,
                Value::Object(audit::created(&view(&l))),
                ctx.request_id.as_deref(),
                now,
            ));
            cs.writes
                .push(Write::Reference(ReferenceWrite::InsertClassification(l)));
        }
        self.store.commit(cs).await?;
        self.forget_scheme();
        Ok(true)
    }

    async fn check_parent(&self, id: Uuid, parent: Option<Uuid>) -> Result<()> {
        let mut cur = parent;
        let mut depth = 0;
        while let Some(p) = cur {
            if p == id {
                return Err(AppError::invalid(
                    "parent_id",
                    "a place cannot be inside one of its own sub-places",
                ));
            }
            depth += 1;
            if depth > 32 {
                return Err(AppError::invalid(
                    "parent_id",
                    "the location tree is at most 32 levels deep",
                ));
            }
            cur = match self.store.location(p).await? {
                Some(l) => l.parent_id,
                None => {
                    return Err(AppError::invalid(
                        "parent_id",
                        format!("no location has the id {p}"),
                    ))
                }
            };
        }
        Ok(())
    }

    /// Adds a place to the location tree.
    pub async fn create_location(&self, ctx: &Ctx, input: Map<String, Value>) -> Result<Location> {
        self.allow(ctx, Action::ManageLocations).await?;
        let defs = self.store.custom_fields().await?;
        let now = custodian_domain::now();
        let l = Location::from_input(&input, &defs, now)?;
        self.check_parent(l.id, l.parent_id).await?;
        self.write_created(
            ctx,
            "location",
            &l.id.to_string(),
            &view(&l),
            Write::Reference(ReferenceWrite::InsertLocation(l.clone())),
            now,
        )
        .await?;
        Ok(l)
    }

    /// One place.
    pub async fn get_location(&self, ctx: &Ctx, id: Uuid) -> Result<Location> {
        self.allow(ctx, Action::ReadReference).await?;
        self.store
            .location(id)
            .await?
            .ok_or_else(|| AppError::not_found("location", id))
    }

    /// Every location's name, by id (readers of reference data).
    pub async fn location_names(
        &self,
        ctx: &Ctx,
    ) -> Result<std::collections::HashMap<Uuid, String>> {
        self.allow(ctx, Action::ReadReference).await?;
        let store = self.store.clone();
        let all = crate::all_pages(|cursor| {
            let store = store.clone();
            async move { store.list_locations(500, cursor).await }
        })
        .await?;
        Ok(all.into_iter().map(|l| (l.id, l.name)).collect())
    }

    /// A page of places.
    pub async fn list_locations(
        &self,
        ctx: &Ctx,
        limit: u32,
        cursor: Option<Cursor>,
    ) -> Result<Page<Location>> {
        self.allow(ctx, Action::ReadReference).await?;
        Ok(self.store.list_locations(limit, cursor).await?)
    }

    /// Changes a place (its parent may not create a cycle).
    pub async fn update_location(
        &self,
        ctx: &Ctx,
        id: Uuid,
        patch: Map<String, Value>,
        if_match: Precondition,
    ) -> Result<Location> {
        self.allow(ctx, Action::ManageLocations).await?;
        let cur = self.get_location(ctx, id).await?;
        check_version("location", id, &if_match, cur.version)?;
        let defs = self.store.custom_fields().await?;
        let now = custodian_domain::now();
        let next = cur.patched(&patch, &defs, now)?;
        self.check_parent(id, next.parent_id).await?;
        let write = Write::Reference(ReferenceWrite::UpdateLocation {
            location: next.clone(),
            expected_version: cur.version,
        });
        let changed = self
            .write_update(
                ctx,
                ("location", &id.to_string()),
                audit::diff(&view(&cur), &view(&next)),
                write,
                if_match,
                now,
            )
            .await?;
        Ok(if changed { next } else { cur })
    }

    /// The classification scheme, by rank.
    pub async fn list_classifications(&self, ctx: &Ctx) -> Result<Vec<Classification>> {
        self.allow(ctx, Action::ReadReference).await?;
        Ok(self.store.classifications().await?)
    }

    /// One level.
    pub async fn get_classification(&self, ctx: &Ctx, key: &str) -> Result<Classification> {
        self.allow(ctx, Action::ReadReference).await?;
        self.store
            .classifications()
            .await?
            .into_iter()
            .find(|c| c.key == key)
            .ok_or_else(|| AppError::not_found("classification", key))
    }

    /// Adds a level to the scheme.
    pub async fn create_classification(
        &self,
        ctx: &Ctx,
        input: Map<String, Value>,
    ) -> Result<Classification> {
        self.allow(ctx, Action::ManageScheme).await?;
        let now = custodian_domain::now();
        let c = Classification::from_input(&input, now)?;
        self.write_created(
            ctx,
            "classification",
            &c.key,
            &view(&c),
            Write::Reference(ReferenceWrite::InsertClassification(c.clone())),
            now,
        )
        .await?;
        self.forget_scheme();
        Ok(c)
    }

    /// Changes a level's name or handling rules (its key never changes).
    pub async fn update_classification(
        &self,
        ctx: &Ctx,
        key: &str,
        patch: Map<String, Value>,
        if_match: Precondition,
    ) -> Result<Classification> {
        self.allow(ctx, Action::ManageScheme).await?;
        let cur = self.get_classification(ctx, key).await?;
        check_version("classification", key, &if_match, cur.version)?;
        let now = custodian_domain::now();
        let next = cur.patched(&patch, now)?;
        let write = Write::Reference(ReferenceWrite::UpdateClassification {
            level: next.clone(),
            expected_version: cur.version,
        });
        let changed = self
            .write_update(
                ctx,
                ("classification", key),
                audit::diff(&view(&cur), &view(&next)),
                write,
                if_match,
                now,
            )
            .await?;
        self.forget_scheme();
        Ok(if changed { next } else { cur })
    }

    /// Deletes a level that no asset uses.
    pub async fn delete_classification(
        &self,
        ctx: &Ctx,
        key: &str,
        if_match: Precondition,
    ) -> Result<()> {
        self.allow(ctx, Action::ManageScheme).await?;
        let cur = self.get_classification(ctx, key).await?;
        check_version("classification", key, &if_match, cur.version)?;
        let used = self.store.classification_usage(key).await?;
        if used > 0 {
            return Err(AppError::Conflict {
                message: format!(
                    "the level {key} is used by {used} asset(s): reclassify them first"
                ),
                field: Some("key".into()),
            });
        }
        let now = custodian_domain::now();
        let ev = NewEvent::new(
            &ctx.actor,
            "classification.deleted",
            "classification",
            key,
            Value::Object(audit::diff(&view(&cur), &Map::new())),
            ctx.request_id.as_deref(),
            now,
        );
        self.store
            .commit(ChangeSet::one(
                Write::Reference(ReferenceWrite::DeleteClassification(key.into())),
                ev,
            ))
            .await?;
        self.forget_scheme();
        Ok(())
    }

    /// Every custom field definition.
    pub async fn list_custom_fields(&self, ctx: &Ctx) -> Result<Vec<CustomFieldDef>> {
        self.allow(ctx, Action::ReadReference).await?;
        Ok(self.store.custom_fields().await?)
    }

    /// One custom field definition.
    pub async fn get_custom_field(&self, ctx: &Ctx, id: Uuid) -> Result<CustomFieldDef> {
        self.allow(ctx, Action::ReadReference).await?;
        self.store
            .custom_fields()
            .await?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or_else(|| AppError::not_found("custom field", id))
    }

    /// Defines a custom field.
    pub async fn create_custom_field(
        &self,
        ctx: &Ctx,
        input: Map<String, Value>,
    ) -> Result<CustomFieldDef> {
        self.allow(ctx, Action::ManageScheme).await?;
        let now = custodian_domain::now();
        let d = CustomFieldDef::from_input(&input, now)?;
        self.write_created(
            ctx,
            "custom_field",
            &d.id.to_string(),
            &view(&d),
            Write::Reference(ReferenceWrite::InsertCustomField(d.clone())),
            now,
        )
        .await?;
        self.forget_scheme();
        Ok(d)
    }

    /// Changes a custom field's label, choices, requirement or help.
    pub async fn update_custom_field(
        &self,
        ctx: &Ctx,
        id: Uuid,
        patch: Map<String, Value>,
        if_match: Precondition,
    ) -> Result<CustomFieldDef> {
        self.allow(ctx, Action::ManageScheme).await?;
        let cur = self.get_custom_field(ctx, id).await?;
        check_version("custom field", id, &if_match, cur.version)?;
        let now = custodian_domain::now();
        let next = cur.patched(&patch, now)?;
        let write = Write::Reference(ReferenceWrite::UpdateCustomField {
            def: next.clone(),
            expected_version: cur.version,
        });
        let changed = self
            .write_update(
                ctx,
                ("custom_field", &id.to_string()),
                audit::diff(&view(&cur), &view(&next)),
                write,
                if_match,
                now,
            )
            .await?;
        self.forget_scheme();
        Ok(if changed { next } else { cur })
    }

    /// Deletes a custom field definition (values already stored are dropped on the record's next change).
    pub async fn delete_custom_field(
        &self,
        ctx: &Ctx,
        id: Uuid,
        if_match: Precondition,
    ) -> Result<()> {
        self.allow(ctx, Action::ManageScheme).await?;
        let cur = self.get_custom_field(ctx, id).await?;
        check_version("custom field", id, &if_match, cur.version)?;
        let now = custodian_domain::now();
        let ev = NewEvent::new(
            &ctx.actor,
            "custom_field.deleted",
            "custom_field",
            id,
            Value::Object(audit::diff(&view(&cur), &Map::new())),
            ctx.request_id.as_deref(),
            now,
        );
        self.store
            .commit(ChangeSet::one(
                Write::Reference(ReferenceWrite::DeleteCustomField(id)),
                ev,
            ))
            .await?;
        self.forget_scheme();
        Ok(())
    }
}
