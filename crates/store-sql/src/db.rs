//! One SQL text, two backends: arguments, rows and execution dispatched to SQLite or
//! PostgreSQL. Both accept `$N` placeholders, so queries are written once; the few
//! dialect differences are chosen where they occur with [`Dialect`].

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::postgres::{PgPool, PgRow};
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::types::Json;
use sqlx::{Arguments, Decode, Encode, Postgres, Row as _, Sqlite, Transaction, Type};
use uuid::Uuid;

use custodian_store::{Result, StoreError};

/// Which SQL dialect a query is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3.
    Sqlite,
    /// PostgreSQL 13 or later.
    Postgres,
}

/// A bind argument.
#[derive(Clone, Debug)]
pub enum Arg {
    Uuid(Option<Uuid>),
    Text(Option<String>),
    Int(Option<i64>),
    Bool(Option<bool>),
    Time(Option<DateTime<Utc>>),
    Date(Option<NaiveDate>),
    Json(Value),
    Bytes(Option<Vec<u8>>),
}

macro_rules! arg_from {
    ($t:ty, $v:ident) => {
        impl From<$t> for Arg {
            fn from(v: $t) -> Self {
                Arg::$v(Some(v.into()))
            }
        }
        impl From<Option<$t>> for Arg {
            fn from(v: Option<$t>) -> Self {
                Arg::$v(v.map(Into::into))
            }
        }
    };
}
arg_from!(Uuid, Uuid);
arg_from!(String, Text);
arg_from!(Vec<u8>, Bytes);
arg_from!(&str, Text);
arg_from!(i64, Int);
arg_from!(bool, Bool);
arg_from!(DateTime<Utc>, Time);
arg_from!(NaiveDate, Date);

impl From<Value> for Arg {
    fn from(v: Value) -> Self {
        Arg::Json(v)
    }
}

/// A query: text with `$N` placeholders and its arguments.
#[derive(Clone, Debug, Default)]
pub struct Sql {
    pub text: String,
    pub args: Vec<Arg>,
}

impl Sql {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            args: Vec::new(),
        }
    }

    /// Adds an argument for the next placeholder.
    pub fn bind(mut self, a: impl Into<Arg>) -> Self {
        self.args.push(a.into());
        self
    }

    /// Adds an argument and returns its placeholder (`$N`).
    pub fn arg(&mut self, a: impl Into<Arg>) -> String {
        self.args.push(a.into());
        format!("${}", self.args.len())
    }

    /// Appends text.
    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    /// Binds each value and returns `(p1, p2, …)`, to place in the text later.
    pub fn list<A: Into<Arg>>(&mut self, items: impl IntoIterator<Item = A>) -> String {
        let ps: Vec<String> = items.into_iter().map(|a| self.arg(a)).collect();
        format!("({})", ps.join(", "))
    }

    /// Appends `(p1, p2, …)` binding each value.
    pub fn push_list<A: Into<Arg>>(&mut self, items: impl IntoIterator<Item = A>) {
        let ps: Vec<String> = items.into_iter().map(|a| self.arg(a)).collect();
        self.text.push('(');
        self.text.push_str(&ps.join(", "));
        self.text.push(')');
    }
}

/// Rewrites `$N` placeholders as anonymous `?` with the arguments in order of appearance.
///
/// SQLite resolves a named or numbered parameter by walking its list of names, so binding
/// a statement with thousands of `$N` parameters (a multi-row insert) costs time quadratic
/// in their number; anonymous parameters cost nothing to resolve.
fn anonymous(sql: Sql) -> Result<(String, Vec<Arg>)> {
    let bytes = sql.text.as_bytes();
    let mut text = String::with_capacity(sql.text.len());
    let mut order: Vec<usize> = Vec::with_capacity(sql.args.len());
    let mut last = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            let start = i + 1;
            let mut end = start;
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                end += 1;
            }
            let n: usize = sql.text[start..end]
                .parse()
                .map_err(|_| StoreError::Other("bad placeholder".into()))?;
            if n == 0 || n > sql.args.len() {
                return Err(StoreError::Other(format!(
                    "placeholder ${n} has no argument"
                )));
            }
            order.push(n - 1);
            text.push_str(&sql.text[last..i]);
            text.push('?');
            last = end;
            i = end;
        } else {
            i += 1;
        }
    }
    text.push_str(&sql.text[last..]);
    // Almost every query names its arguments once each, in order: move them as they are.
    let in_order = order.len() == sql.args.len() && order.iter().enumerate().all(|(i, n)| i == *n);
    let args = if in_order {
        sql.args
    } else {
        order.iter().map(|n| sql.args[*n].clone()).collect()
    };
    Ok((text, args))
}

/// The query as the backend binds it.
fn prepare(dialect: Dialect, sql: Sql) -> Result<Sql> {
    match dialect {
        Dialect::Sqlite => anonymous(sql).map(|(text, args)| Sql { text, args }),
        Dialect::Postgres => Ok(sql),
    }
}

/// The arguments of a statement, bound for database `DB`.
fn bind<DB>(args: Vec<Arg>) -> Result<<DB as sqlx::Database>::Arguments<'static>>
where
    DB: sqlx::Database,
    Option<Uuid>: Encode<'static, DB> + Type<DB>,
    Option<String>: Encode<'static, DB> + Type<DB>,
    Option<i64>: Encode<'static, DB> + Type<DB>,
    Option<bool>: Encode<'static, DB> + Type<DB>,
    Option<DateTime<Utc>>: Encode<'static, DB> + Type<DB>,
    Option<NaiveDate>: Encode<'static, DB> + Type<DB>,
    Json<Value>: Encode<'static, DB> + Type<DB>,
    Option<Vec<u8>>: Encode<'static, DB> + Type<DB>,
{
    let mut a = <DB as sqlx::Database>::Arguments::<'static>::default();
    for arg in args {
        let r = match arg {
            Arg::Uuid(v) => a.add(v),
            Arg::Text(v) => a.add(v),
            Arg::Int(v) => a.add(v),
            Arg::Bool(v) => a.add(v),
            Arg::Time(v) => a.add(v),
            Arg::Date(v) => a.add(v),
            Arg::Json(v) => a.add(Json(v)),
            Arg::Bytes(v) => a.add(v),
        };
        r.map_err(|e| StoreError::Other(format!("cannot bind an argument: {e}")))?;
    }
    Ok(a)
}

/// A value type both backends can decode.
pub trait Col:
    for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres>
{
}
impl<T> Col for T where
    T: for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres>
{
}

/// A result row of either backend.
pub enum Row {
    Sqlite(SqliteRow),
    Pg(PgRow),
}

impl Row {
    /// Reads a column.
    pub fn get<T: Col>(&self, col: &str) -> Result<T> {
        match self {
            Row::Sqlite(r) => r.try_get(col),
            Row::Pg(r) => r.try_get(col),
        }
        .map_err(|e| StoreError::Other(format!("cannot read column {col}: {e}")))
    }

    /// Reads a JSON column.
    pub fn json(&self, col: &str) -> Result<Value> {
        self.get::<Json<Value>>(col).map(|j| j.0)
    }
}

/// Maps a database error to a store error, recognising duplicates and references.
/// A uniqueness rule a change can break: how each backend names it, and the field and
/// words its refusal gives. PostgreSQL reports the constraint's name; SQLite the columns
/// (`table.column, …`) after "UNIQUE constraint failed: ".
pub struct Unique {
    /// PostgreSQL's name of the constraint or unique index.
    pub postgres: &'static str,
    /// The columns SQLite names.
    pub sqlite: &'static str,
    /// The wire name of the field whose value is taken.
    pub field: &'static str,
    /// What is taken, in words.
    pub message: &'static str,
}

/// Every uniqueness rule of the schema but the ids' own (`*_id_key`, which a generated id
/// does not break). `tests/it/constraints.rs` checks the list against both databases.
pub const UNIQUE: &[Unique] = &[
    Unique {
        postgres: "assets_asset_number_key",
        sqlite: "assets.asset_number",
        field: "asset_number",
        message: "this asset number is already used by another asset",
    },
    Unique {
        postgres: "asset_external_ids_pkey",
        sqlite: "asset_external_ids.system, asset_external_ids.value",
        field: "external_ids",
        message: "this external id already belongs to another asset",
    },
    Unique {
        postgres: "disposals_pkey",
        sqlite: "disposals.asset_id",
        field: "disposal",
        message: "this asset already has a disposal record",
    },
    Unique {
        postgres: "relations_from_id_to_id_type_key",
        sqlite: "relations.from_id, relations.to_id, relations.type",
        field: "type",
        message: "these assets are already linked this way",
    },
    Unique {
        postgres: "parties_email_key",
        sqlite: "parties.email",
        field: "email",
        message: "this e-mail address already belongs to another person",
    },
    Unique {
        postgres: "classifications_pkey",
        sqlite: "classifications.key",
        field: "key",
        message: "a level with this key already exists",
    },
    Unique {
        postgres: "classifications_rank_key",
        sqlite: "classifications.rank",
        field: "rank",
        message: "another level already has this rank",
    },
    Unique {
        postgres: "custom_fields_entity_type_key_key",
        sqlite: "custom_fields.entity_type, custom_fields.key",
        field: "key",
        message: "a custom field with this key already exists for this entity type",
    },
    Unique {
        postgres: "users_email_key",
        sqlite: "users.email",
        field: "email",
        message: "this e-mail address already has an account",
    },
    Unique {
        postgres: "users_oidc_subject_key",
        sqlite: "users.oidc_subject",
        field: "oidc_subject",
        message: "this single sign-on identity is linked to another account",
    },
    Unique {
        postgres: "api_tokens_token_hash_key",
        sqlite: "api_tokens.token_hash",
        field: "token",
        message: "this token exists already",
    },
    Unique {
        postgres: "policies_document_number_key",
        sqlite: "policies.document, policies.number",
        field: "number",
        message: "this document has a version with this number already",
    },
    Unique {
        postgres: "policies_in_force",
        sqlite: "policies.document",
        field: "status",
        message: "another version of this document was approved meanwhile",
    },
    Unique {
        postgres: "acknowledgements_person_id_policy_id_key",
        sqlite: "acknowledgements.person_id, acknowledgements.policy_id",
        field: "policy_id",
        message: "this person has acknowledged this version already",
    },
    Unique {
        postgres: "policy_renderings_pkey",
        sqlite: "policy_renderings.policy_id, policy_renderings.format",
        field: "status",
        message: "this version was approved meanwhile: its document is made already",
    },
    Unique {
        postgres: "assignments_one_holder",
        sqlite: "assignments.asset_id",
        field: "asset_id",
        message: "the asset is in someone's custody already: take it back first",
    },
    Unique {
        postgres: "offboarding_items_offboarding_id_position_key",
        sqlite: "offboarding_items.offboarding_id, offboarding_items.position",
        field: "items",
        message: "two items of the case have the same place",
    },
    Unique {
        postgres: "stocktake_scans_once",
        sqlite: "stocktake_scans.stocktake_id, stocktake_scans.asset_id",
        field: "entry",
        message: "this asset was scanned in this stocktake already",
    },
    Unique {
        postgres: "stocktake_missing_pkey",
        sqlite: "stocktake_missing.stocktake_id, stocktake_missing.asset_seq",
        field: "asset_id",
        message: "this asset is listed as missing already",
    },
    Unique {
        postgres: "asset_tags_pkey",
        sqlite: "asset_tags.tag, asset_tags.seq",
        field: "tags",
        message: "a tag is given twice",
    },
    Unique {
        postgres: "team_members_pkey",
        sqlite: "team_members.team_id, team_members.person_id",
        field: "member_ids",
        message: "a person is named twice as a member",
    },
    Unique {
        postgres: "exception_assets_pkey",
        sqlite: "exception_assets.exception_id, exception_assets.asset_id",
        field: "asset_ids",
        message: "an asset is named twice",
    },
    Unique {
        postgres: "attestation_owners_pkey",
        sqlite: "attestation_owners.attestation_id, attestation_owners.owner_id",
        field: "owner_id",
        message: "an owner is asked twice",
    },
    Unique {
        postgres: "sessions_pkey",
        sqlite: "sessions.id_hash",
        field: "session",
        message: "this session exists already",
    },
];

/// The rule a unique violation broke, from what the database says of it.
fn broken_rule(constraint: Option<&str>, message: &str) -> Option<&'static Unique> {
    match constraint {
        Some(name) => UNIQUE.iter().find(|u| u.postgres == name),
        None => {
            let columns = message.split("UNIQUE constraint failed: ").nth(1)?.trim();
            UNIQUE.iter().find(|u| u.sqlite == columns)
        }
    }
}

pub fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) => {
            let msg = d.message().to_string();
            if d.is_unique_violation() {
                let (field, message) = match broken_rule(d.constraint(), &msg) {
                    Some(u) => (u.field, u.message),
                    None => ("id", "already exists"),
                };
                return StoreError::Duplicate {
                    field,
                    message: message.into(),
                };
            }
            if d.is_foreign_key_violation() {
                return StoreError::Reference(
                    "a referenced record does not exist, or the record is still referenced".into(),
                );
            }
            StoreError::Other(msg)
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Other(e.to_string()),
    }
}

/// Connection pools of either backend.
#[derive(Clone, Debug)]
pub enum Pools {
    /// SQLite: one writer connection, several read-only ones.
    Sqlite { write: SqlitePool, read: SqlitePool },
    /// PostgreSQL.
    Pg(PgPool),
}

impl Pools {
    pub fn dialect(&self) -> Dialect {
        match self {
            Pools::Sqlite { .. } => Dialect::Sqlite,
            Pools::Pg(_) => Dialect::Postgres,
        }
    }

    pub async fn fetch_all(&self, sql: Sql) -> Result<Vec<Row>> {
        let sql = prepare(self.dialect(), sql)?;
        Ok(match self {
            Pools::Sqlite { read, .. } => sqlx::query_with(&sql.text, bind::<Sqlite>(sql.args)?)
                .fetch_all(read)
                .await
                .map_err(map_err)?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            Pools::Pg(p) => sqlx::query_with(&sql.text, bind::<Postgres>(sql.args)?)
                .fetch_all(p)
                .await
                .map_err(map_err)?
                .into_iter()
                .map(Row::Pg)
                .collect(),
        })
    }

    /// Every row of the query, each read by `each`.
    pub async fn fetch_rows<T>(
        &self,
        sql: Sql,
        each: impl Fn(&Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.fetch_all(sql).await?.iter().map(each).collect()
    }

    pub async fn fetch_optional(&self, sql: Sql) -> Result<Option<Row>> {
        let sql = prepare(self.dialect(), sql)?;
        Ok(match self {
            Pools::Sqlite { read, .. } => sqlx::query_with(&sql.text, bind::<Sqlite>(sql.args)?)
                .fetch_optional(read)
                .await
                .map_err(map_err)?
                .map(Row::Sqlite),
            Pools::Pg(p) => sqlx::query_with(&sql.text, bind::<Postgres>(sql.args)?)
                .fetch_optional(p)
                .await
                .map_err(map_err)?
                .map(Row::Pg),
        })
    }

    pub async fn fetch_one(&self, sql: Sql) -> Result<Row> {
        self.fetch_optional(sql)
            .await?
            .ok_or_else(|| StoreError::Other("the query returned no row".into()))
    }

    /// Runs statements without arguments on the writer, outside any transaction.
    pub async fn write_raw(&self, text: &str) -> Result<()> {
        match self {
            Pools::Sqlite { write, .. } => sqlx::raw_sql(text).execute(write).await.map(drop),
            Pools::Pg(p) => sqlx::raw_sql(text).execute(p).await.map(drop),
        }
        .map_err(map_err)
    }

    /// Opens a write transaction (`BEGIN IMMEDIATE` on SQLite, so that a transaction that
    /// reads before it writes waits for the lock instead of failing).
    pub async fn begin(&self) -> Result<TxConn> {
        Ok(match self {
            Pools::Sqlite { write, .. } => {
                TxConn::Sqlite(write.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)?)
            }
            Pools::Pg(p) => TxConn::Pg(p.begin().await.map_err(map_err)?),
        })
    }
}

/// An open transaction of either backend.
pub enum TxConn {
    Sqlite(Transaction<'static, Sqlite>),
    Pg(Transaction<'static, Postgres>),
}

impl TxConn {
    pub fn dialect(&self) -> Dialect {
        match self {
            TxConn::Sqlite(_) => Dialect::Sqlite,
            TxConn::Pg(_) => Dialect::Postgres,
        }
    }

    pub async fn execute(&mut self, sql: Sql) -> Result<u64> {
        let sql = prepare(self.dialect(), sql)?;
        Ok(match self {
            TxConn::Sqlite(t) => sqlx::query_with(&sql.text, bind::<Sqlite>(sql.args)?)
                .execute(&mut **t)
                .await
                .map_err(map_err)?
                .rows_affected(),
            TxConn::Pg(t) => sqlx::query_with(&sql.text, bind::<Postgres>(sql.args)?)
                .execute(&mut **t)
                .await
                .map_err(map_err)?
                .rows_affected(),
        })
    }

    pub async fn fetch_all(&mut self, sql: Sql) -> Result<Vec<Row>> {
        let sql = prepare(self.dialect(), sql)?;
        Ok(match self {
            TxConn::Sqlite(t) => sqlx::query_with(&sql.text, bind::<Sqlite>(sql.args)?)
                .fetch_all(&mut **t)
                .await
                .map_err(map_err)?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            TxConn::Pg(t) => sqlx::query_with(&sql.text, bind::<Postgres>(sql.args)?)
                .fetch_all(&mut **t)
                .await
                .map_err(map_err)?
                .into_iter()
                .map(Row::Pg)
                .collect(),
        })
    }

    pub async fn fetch_one(&mut self, sql: Sql) -> Result<Row> {
        self.fetch_all(sql)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Other("the query returned no row".into()))
    }

    /// Runs statements without arguments (schema migrations).
    pub async fn raw(&mut self, text: &str) -> Result<()> {
        match self {
            TxConn::Sqlite(t) => sqlx::raw_sql(text).execute(&mut **t).await.map(|_| ()),
            TxConn::Pg(t) => sqlx::raw_sql(text).execute(&mut **t).await.map(|_| ()),
        }
        .map_err(map_err)
    }

    pub async fn commit(self) -> Result<()> {
        match self {
            TxConn::Sqlite(t) => t.commit().await,
            TxConn::Pg(t) => t.commit().await,
        }
        .map_err(map_err)
    }

    pub async fn rollback(self) -> Result<()> {
        match self {
            TxConn::Sqlite(t) => t.rollback().await,
            TxConn::Pg(t) => t.rollback().await,
        }
        .map_err(map_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(args: &[Arg]) -> Vec<String> {
        args.iter()
            .map(|a| match a {
                Arg::Text(Some(t)) => t.clone(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn placeholders_become_anonymous_in_order_of_appearance() {
        let sql = Sql::new("SELECT $1, $2").bind("a").bind("b");
        let (text, args) = anonymous(sql).unwrap();
        assert_eq!(text, "SELECT ?, ?");
        assert_eq!(texts(&args), ["a", "b"]);
        let sql = Sql::new("x = $2 OR y = $1 OR z = $2").bind("a").bind("b");
        let (text, args) = anonymous(sql).unwrap();
        assert_eq!(text, "x = ? OR y = ? OR z = ?");
        assert_eq!(texts(&args), ["b", "a", "b"]);
        assert!(anonymous(Sql::new("SELECT $3").bind("a")).is_err());
        let (text, _) = anonymous(Sql::new("SELECT '$' || $1").bind("a")).unwrap();
        assert_eq!(text, "SELECT '$' || ?");
    }
}
