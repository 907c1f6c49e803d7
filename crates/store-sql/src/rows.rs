//! Mapping between rows and domain records, and the column lists queries share.

use custodian_store::{Result, StoreError};
use serde_json::{Map, Value};

use crate::db::{Row, Sql};

// Each record type's columns and row mapping live with its SQL.
pub use crate::accounts::{session, token, user, user_values, SESSION_COLS, TOKEN_COLS, USER_COLS};
pub use crate::assets::{
    asset, asset_values, disposal, incident, relation, ASSET_COLS, RELATION_COLS,
};
pub use crate::attestation::{
    answer_values, attestation, attestation_owner_values, attestation_values, ATTESTATION_COLS,
};
pub use crate::audit::{event, EVENT_COLS};
pub use crate::custody::{assignment, assignment_values, ASSIGNMENT_COLS};
pub use crate::exceptions::{exception, exception_values, EXCEPTION_COLS};
pub use crate::offboarding::{
    item_state, item_values, offboarding, offboarding_values, OFFBOARDING_COLS,
};
pub use crate::parties::{delegation, party, party_values, DELEGATION_COLS, PARTY_COLS};
pub use crate::policies::{
    ack_values, acknowledgement, policy, policy_values, ACK_COLS, POLICY_COLS,
};
pub use crate::reference::{
    classification, classification_values, custom_field, custom_field_values, location,
    location_values, CLASSIFICATION_COLS, CUSTOM_FIELD_COLS, LOCATION_COLS,
};
pub use crate::stocktakes::{
    scan, scan_values, stocktake, stocktake_values, SCAN_COLS, STOCKTAKE_COLS,
};

pub(crate) fn word<T>(row: &Row, col: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let s: String = row.get(col)?;
    parse(&s).ok_or_else(|| StoreError::Other(format!("column {col} holds an unknown value {s:?}")))
}

pub(crate) fn opt_word<T>(row: &Row, col: &str, parse: fn(&str) -> Option<T>) -> Result<Option<T>> {
    match row.get::<Option<String>>(col)? {
        None => Ok(None),
        Some(s) => parse(&s)
            .map(Some)
            .ok_or_else(|| StoreError::Other(format!("column {col} holds an unknown value {s:?}"))),
    }
}

pub(crate) fn object(row: &Row, col: &str) -> Result<Map<String, Value>> {
    match row.json(col)? {
        Value::Object(m) => Ok(m),
        _ => Ok(Map::new()),
    }
}

pub(crate) fn strings(row: &Row, col: &str) -> Result<Vec<String>> {
    Ok(match row.json(col)? {
        Value::Array(a) => a
            .into_iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        _ => vec![],
    })
}

/// `INSERT INTO table (cols) VALUES (…)` for one record's columns.
pub fn insert(table: &str, values: Vec<(&'static str, crate::db::Arg)>) -> Sql {
    let mut sql = Sql::new("");
    let cols: Vec<&str> = values.iter().map(|(c, _)| *c).collect();
    let ps: Vec<String> = values.into_iter().map(|(_, v)| sql.arg(v)).collect();
    sql.text = format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        cols.join(", "),
        ps.join(", ")
    );
    sql
}

/// `UPDATE table SET cols = … WHERE key = $k AND version = $v` for one record.
pub fn update_versioned(
    table: &str,
    key_col: &str,
    key: crate::db::Arg,
    values: Vec<(&'static str, crate::db::Arg)>,
    expected_version: i64,
) -> Sql {
    let mut sql = Sql::new("");
    let sets: Vec<String> = values
        .into_iter()
        .filter(|(c, _)| *c != key_col && *c != "created_at")
        .map(|(c, v)| format!("{c} = {}", sql.arg(v)))
        .collect();
    let k = sql.arg(key);
    let v = sql.arg(expected_version);
    sql.text = format!(
        "UPDATE {table} SET {} WHERE {key_col} = {k} AND version = {v}",
        sets.join(", ")
    );
    sql
}
