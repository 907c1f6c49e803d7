//! One SQL text, two backends: arguments, rows and execution dispatched to SQLite or
//! PostgreSQL. Both accept `$N` placeholders, so queries are written once; the few
//! dialect differences are chosen where they occur with [`Dialect`].

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::postgres::{PgArguments, PgPool, PgRow};
use sqlx::sqlite::{SqliteArguments, SqlitePool, SqliteRow};
use sqlx::types::Json;
use sqlx::{Arguments, Decode, Postgres, Row as _, Sqlite, Transaction, Type};
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

fn sqlite_args(args: Vec<Arg>) -> Result<SqliteArguments<'static>> {
    let mut a = SqliteArguments::default();
    for arg in args {
        let r = match arg {
            Arg::Uuid(v) => a.add(v),
            Arg::Text(v) => a.add(v),
            Arg::Int(v) => a.add(v),
            Arg::Bool(v) => a.add(v),
            Arg::Time(v) => a.add(v),
            Arg::Date(v) => a.add(v),
            Arg::Json(v) => a.add(Json(v)),
        };
        r.map_err(|e| StoreError::Other(format!("cannot bind an argument: {e}")))?;
    }
    Ok(a)
}

fn pg_args(args: Vec<Arg>) -> Result<PgArguments> {
    let mut a = PgArguments::default();
    for arg in args {
        let r = match arg {
            Arg::Uuid(v) => a.add(v),
            Arg::Text(v) => a.add(v),
            Arg::Int(v) => a.add(v),
            Arg::Bool(v) => a.add(v),
            Arg::Time(v) => a.add(v),
            Arg::Date(v) => a.add(v),
            Arg::Json(v) => a.add(Json(v)),
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
pub fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) => {
            let msg = d.message().to_string();
            let constraint = d.constraint().unwrap_or_default().to_string();
            let hay = format!("{msg} {constraint}");
            if d.is_unique_violation() {
                let (field, what): (&'static str, &str) = if hay.contains("stocktake_scans") {
                    ("entry", "this asset was scanned in this stocktake already")
                } else if hay.contains("assignments") {
                    (
                        "asset_id",
                        "the asset is in someone's custody already: take it back first",
                    )
                } else if hay.contains("acknowledgements") {
                    (
                        "policy_id",
                        "this person has acknowledged this version already",
                    )
                } else if hay.contains("policies") && hay.contains("number") {
                    (
                        "number",
                        "this document has a version with this number already",
                    )
                } else if hay.contains("policies") {
                    (
                        "status",
                        "another version of this document was approved meanwhile",
                    )
                } else if hay.contains("asset_number") {
                    (
                        "asset_number",
                        "this asset number is already used by another asset",
                    )
                } else if hay.contains("users") && hay.contains("email") {
                    ("email", "this e-mail address already has an account")
                } else if hay.contains("oidc_subject") {
                    (
                        "oidc_subject",
                        "this single sign-on identity is linked to another account",
                    )
                } else if hay.contains("email") {
                    (
                        "email",
                        "this e-mail address already belongs to another person",
                    )
                } else if hay.contains("external_ids") {
                    (
                        "external_ids",
                        "this external id already belongs to another asset",
                    )
                } else if hay.contains("relations") {
                    ("type", "these assets are already linked this way")
                } else if hay.contains("rank") {
                    ("rank", "another level already has this rank")
                } else if hay.contains("classifications") {
                    ("key", "a level with this key already exists")
                } else if hay.contains("custom_fields") {
                    (
                        "key",
                        "a custom field with this key already exists for this entity type",
                    )
                } else if hay.contains("disposals") {
                    ("disposal", "this asset already has a disposal record")
                } else {
                    ("id", "already exists")
                };
                return StoreError::Duplicate {
                    field,
                    message: what.into(),
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
            Pools::Sqlite { read, .. } => sqlx::query_with(&sql.text, sqlite_args(sql.args)?)
                .fetch_all(read)
                .await
                .map_err(map_err)?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            Pools::Pg(p) => sqlx::query_with(&sql.text, pg_args(sql.args)?)
                .fetch_all(p)
                .await
                .map_err(map_err)?
                .into_iter()
                .map(Row::Pg)
                .collect(),
        })
    }

    pub async fn fetch_optional(&self, sql: Sql) -> Result<Option<Row>> {
        let sql = prepare(self.dialect(), sql)?;
        Ok(match self {
            Pools::Sqlite { read, .. } => sqlx::query_with(&sql.text, sqlite_args(sql.args)?)
                .fetch_optional(read)
                .await
                .map_err(map_err)?
                .map(Row::Sqlite),
            Pools::Pg(p) => sqlx::query_with(&sql.text, pg_args(sql.args)?)
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
            TxConn::Sqlite(t) => sqlx::query_with(&sql.text, sqlite_args(sql.args)?)
                .execute(&mut **t)
                .await
                .map_err(map_err)?
                .rows_affected(),
            TxConn::Pg(t) => sqlx::query_with(&sql.text, pg_args(sql.args)?)
                .execute(&mut **t)
                .await
                .map_err(map_err)?
                .rows_affected(),
        })
    }

    pub async fn fetch_all(&mut self, sql: Sql) -> Result<Vec<Row>> {
        let sql = prepare(self.dialect(), sql)?;
        Ok(match self {
            TxConn::Sqlite(t) => sqlx::query_with(&sql.text, sqlite_args(sql.args)?)
                .fetch_all(&mut **t)
                .await
                .map_err(map_err)?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            TxConn::Pg(t) => sqlx::query_with(&sql.text, pg_args(sql.args)?)
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
