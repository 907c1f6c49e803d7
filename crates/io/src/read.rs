//! Reading import files: Custodian's own CSV columns and JSON Lines.
//!
//! Both readers stream: they hold one row at a time, so a million-row import needs no
//! more memory than a ten-row one. Each yields `(row number, fields)`; a row that cannot
//! be read becomes a [`RowError`] naming the row, and the importer reports it alongside
//! the rows that fail validation, so one bad line never hides the others.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Read};

use serde_json::{Map, Number, Value};

use custodian_app::import::RowError;
use custodian_domain::custom::{CustomFieldDef, CustomType, EntityType};
use custodian_domain::fields::{self, FieldDef, FieldType};

use json::JsonError;
use quotes::QuoteCheck;

mod json;
mod quotes;

/// One row as the importer takes it: its number in the file and its fields, or why it
/// could not be read.
pub type Row = (u64, Result<Map<String, Value>, RowError>);

/// Characters that make a spreadsheet treat a cell as a formula (OWASP CSV injection).
const FORMULA_STARTS: &[char] = &['=', '+', '-', '@', '\t', '\r'];

/// Longest JSON Lines line accepted; a longer one is reported instead of being buffered,
/// so a file without line breaks cannot exhaust memory.
const MAX_LINE: usize = 4 * 1024 * 1024;

/// Most columns a CSV header may have, besides one per asset custom field the register
/// defines (see [`csv_rows_with`]).
///
/// The export writes 69 columns (17 common, three of them names, 51 kind-specific, `external_ids`) plus one
/// per custom field, so a register's own files stay far below this; the room left is for
/// hand-added `custom.KEY` and `external_ids.SYSTEM` columns. Above it the file is not an
/// asset list, and refusing it early keeps a header of 100,000 columns from costing more
/// than reading it.
pub const MAX_COLUMNS: usize = 1000;

/// What a quoted cell with text after its closing quote is told.
const AFTER_QUOTE: &str = "has text after its closing quote: put the whole cell in quotes and double any quote inside it (\"x\"\"y\")";

/// Whether a value, past any leading `'`, starts like a formula.
fn formula_like(s: &str) -> bool {
    s.trim_start_matches('\'').starts_with(FORMULA_STARTS)
}

/// Prefixes `'` to a cell a spreadsheet would run as a formula.
///
/// Values that are already quoted formulas (`'=x`, `''=x`) get one more `'` too, so that
/// [`unguard`] gives back every value exactly.
pub(crate) fn guard(s: &str) -> String {
    if formula_like(s) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// Undoes [`guard`]: drops one leading `'` when a formula (or a quoted one) follows it.
pub(crate) fn unguard(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if formula_like(rest) => rest,
        _ => s,
    }
}

/// Reads Custodian's CSV: a header row of wire names, then one asset per row.
///
/// The header is row 1, the first asset row 2. Cells become the JSON type their column
/// expects; empty cells are left out (not set), and rows of empty cells are skipped.
/// Lists are separated by `;` or written as a JSON list; booleans may be written
/// `true`/`false`, `yes`/`no` or `1`/`0`. `custom.KEY` and `external_ids.SYSTEM` columns
/// fill the nested objects, as does a `custom` or `external_ids` cell holding a JSON
/// object (the export's form). The `'` the export puts before formula-like text is taken
/// off again. Custom field values are guessed from the text (`true`/`false` → boolean, a
/// number → number); [`csv_rows_with`] uses the field definitions instead, which keeps a
/// numeric-looking text value a text.
///
/// What the reader would otherwise have to guess at is refused, by row and column: a
/// quoted cell with text after its closing quote (`"x"y`), a header of more than
/// [`MAX_COLUMNS`] columns or naming a field twice, a key given twice in a JSON cell,
/// and a key a JSON cell and a column of the same row both set.
pub fn csv_rows<R: Read + Send>(
    r: R,
) -> impl Iterator<Item = (u64, Result<Map<String, Value>, RowError>)> + Send {
    CsvRows::new(r, Vec::new())
}

/// Like [`csv_rows`], but converts `custom.KEY` cells to the type their definition names
/// (the asset custom field definitions of the register, from
/// [`custodian_app::App::list_custom_fields`]). The header may have one column more than
/// [`MAX_COLUMNS`] for each asset definition, so that any export of the register reads back.
pub fn csv_rows_with<R: Read + Send>(
    r: R,
    custom_fields: Vec<CustomFieldDef>,
) -> impl Iterator<Item = (u64, Result<Map<String, Value>, RowError>)> + Send {
    let defs = custom_fields
        .into_iter()
        .filter(|d| d.entity_type == EntityType::Asset)
        .collect();
    CsvRows::new(r, defs)
}

/// Reads an HTML form's text fields into an asset's wire fields, the way CSV cells are
/// read (lists separated by `;`, `custom.KEY` and `external_ids.SYSTEM` names, booleans as
/// `true`/`false`). A blank field is left out, or, with `blank_clears`, sent as `null` so
/// that an edit clears it. Answers every field that cannot be read, by name.
pub fn form_fields(
    fields: &[(String, String)],
    custom_fields: &[CustomFieldDef],
    blank_clears: bool,
) -> Result<Map<String, Value>, Vec<(String, String)>> {
    let defs: Vec<CustomFieldDef> = custom_fields
        .iter()
        .filter(|d| d.entity_type == EntityType::Asset)
        .cloned()
        .collect();
    let mut row = Parts::default();
    let mut errors = Vec::new();
    for (name, raw) in fields {
        let cell = raw.trim();
        let col = match Column::parse(name, |key| custom_type(&defs, key)) {
            Ok(c) => c,
            Err(m) => {
                errors.push((name.clone(), m));
                continue;
            }
        };
        if cell.is_empty() {
            if blank_clears {
                match &col {
                    Column::Custom(key, _) => {
                        row.custom.insert(key.clone(), Value::Null);
                    }
                    Column::ExternalId(system) => {
                        row.external_ids.insert(system.clone(), Value::Null);
                    }
                    Column::Tags => {
                        row.fields.insert("tags".into(), Value::Array(vec![]));
                    }
                    _ => {
                        row.fields.insert(name.clone(), Value::Null);
                    }
                }
            }
            continue;
        }
        if let Err(m) = col.put(cell, &mut row) {
            errors.push((name.clone(), m));
        }
    }
    if errors.is_empty() {
        Ok(row.finish())
    } else {
        Err(errors)
    }
}

/// How a column's cells are read.
#[derive(Debug)]
enum Column {
    /// A column without a name: its cells must be empty.
    Nameless,
    /// Text kept as it is: common fields, and unknown columns the domain will name.
    Text(String),
    /// `tags`: a list.
    Tags,
    /// A kind-specific field.
    Kind(&'static FieldDef),
    /// `custom.KEY`, with the definition's type when known.
    Custom(String, Option<CustomType>),
    /// `custom` as a whole JSON object.
    CustomObject,
    /// `external_ids.SYSTEM`.
    ExternalId(String),
    /// `external_ids` as a whole JSON object (what the export writes).
    ExternalIds,
}

/// The type of the custom field `key`, when a definition names it.
fn custom_type(defs: &[CustomFieldDef], key: &str) -> Option<CustomType> {
    defs.iter().find(|d| d.key == key).map(|d| d.field_type)
}

impl Column {
    /// Reads a (trimmed) column name; `custom_type` gives a custom field's type by key.
    fn parse(name: &str, custom_type: impl Fn(&str) -> Option<CustomType>) -> Result<Self, String> {
        if name.is_empty() {
            return Ok(Column::Nameless);
        }
        if let Some(key) = name.strip_prefix("custom.") {
            let key = key.trim();
            if key.is_empty() {
                return Err("custom. needs a field key after the dot".into());
            }
            return Ok(Column::Custom(key.to_string(), custom_type(key)));
        }
        if let Some(system) = name.strip_prefix("external_ids.") {
            let system = system.trim();
            if system.is_empty() {
                return Err("external_ids. needs a system name after the dot".into());
            }
            return Ok(Column::ExternalId(system.to_string()));
        }
        Ok(match name {
            "tags" => Column::Tags,
            "custom" => Column::CustomObject,
            "external_ids" => Column::ExternalIds,
            _ => match fields::field(name) {
                Some(def) => Column::Kind(def),
                None => Column::Text(name.to_string()),
            },
        })
    }

    /// The field a column fills, for finding two columns that fill the same one:
    /// `custom. colour` is `custom.colour` again.
    fn identity(&self, name: &str) -> String {
        match self {
            Column::Custom(key, _) => format!("custom.{key}"),
            Column::ExternalId(system) => format!("external_ids.{system}"),
            _ => name.to_string(),
        }
    }

    /// Converts one non-empty, unguarded cell and puts it into the row.
    fn put(&self, cell: &str, row: &mut Parts) -> Result<(), String> {
        match self {
            Column::Nameless => Err("this column has no name in the header row".into()),
            Column::Text(name) => {
                row.fields
                    .insert(name.clone(), Value::String(cell.to_string()));
                Ok(())
            }
            Column::Tags => {
                if let Some(v) = list(cell)? {
                    row.fields.insert("tags".into(), v);
                }
                Ok(())
            }
            Column::Kind(def) => {
                if let Some(v) = kind_value(def.ty, cell)? {
                    row.fields.insert(def.name.to_string(), v);
                }
                Ok(())
            }
            Column::Custom(key, ty) => {
                let v = custom_value(*ty, cell)?;
                insert_once(&mut row.custom, "custom", key.clone(), v)
            }
            Column::CustomObject => json_object(cell)?
                .into_iter()
                .try_for_each(|(k, v)| insert_once(&mut row.custom, "custom", k, v)),
            Column::ExternalId(system) => insert_once(
                &mut row.external_ids,
                "external_ids",
                system.clone(),
                Value::String(cell.into()),
            ),
            Column::ExternalIds => json_object(cell)?
                .into_iter()
                .try_for_each(|(k, v)| insert_once(&mut row.external_ids, "external_ids", k, v)),
        }
    }
}

/// A row being read: its flat fields and the two nested objects cells may fill.
#[derive(Default)]
struct Parts {
    fields: Map<String, Value>,
    custom: Map<String, Value>,
    external_ids: Map<String, Value>,
}

impl Parts {
    fn finish(self) -> Map<String, Value> {
        let mut m = self.fields;
        if !self.custom.is_empty() {
            m.insert("custom".into(), Value::Object(self.custom));
        }
        if !self.external_ids.is_empty() {
            m.insert("external_ids".into(), Value::Object(self.external_ids));
        }
        m
    }
}

/// Puts a key into one of the row's nested objects, which a `custom` (`external_ids`) cell
/// and a `custom.KEY` (`external_ids.SYSTEM`) column can both fill: when both give the same
/// key, which should win would be a guess, so the row is refused.
fn insert_once(
    into: &mut Map<String, Value>,
    object: &str,
    key: String,
    v: Value,
) -> Result<(), String> {
    if into.contains_key(&key) {
        return Err(format!(
            "sets {object}.{key}, which another column of this row sets too: give it once"
        ));
    }
    into.insert(key, v);
    Ok(())
}

/// What a JSON cell naming a key twice is told.
fn duplicate_in_cell(path: &str) -> String {
    format!("names {path} twice in its JSON: give each key once")
}

fn json_object(cell: &str) -> Result<Map<String, Value>, String> {
    match json::parse(cell) {
        Ok(Value::Object(o)) => Ok(o),
        Err(JsonError::Duplicate(path)) => Err(duplicate_in_cell(&path)),
        _ => Err(format!(
            "must be a JSON object such as {{\"mdm\": \"A123\"}}, not {cell:?}"
        )),
    }
}

/// A list cell: items separated by `;`, or a JSON list when it starts with `[`.
fn list(cell: &str) -> Result<Option<Value>, String> {
    if cell.starts_with('[') {
        return match json::parse(cell) {
            Ok(v @ Value::Array(_)) => Ok(Some(v)),
            Err(JsonError::Duplicate(path)) => Err(duplicate_in_cell(&path)),
            Ok(_) | Err(JsonError::Invalid(_)) => Err(format!(
                "starts with [ but is not a JSON list; separate items with ; or write a JSON list such as [\"a\", \"b\"], not {cell:?}"
            )),
        };
    }
    let items: Vec<Value> = cell
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| Value::String(s.to_string()))
        .collect();
    Ok((!items.is_empty()).then_some(Value::Array(items)))
}

/// `country: safeguard; country: safeguard`, or a JSON list of `{country, safeguard}`.
fn transfers(cell: &str) -> Result<Option<Value>, String> {
    if cell.starts_with('[') {
        return list(cell);
    }
    let mut out = Vec::new();
    for item in cell.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let Some((country, safeguard)) = item.split_once(':') else {
            return Err(format!(
                "write each transfer as country: safeguard (separated by ;) or as a JSON list of {{\"country\", \"safeguard\"}}, not {item:?}"
            ));
        };
        let mut m = Map::new();
        m.insert("country".into(), Value::String(country.trim().into()));
        m.insert("safeguard".into(), Value::String(safeguard.trim().into()));
        out.push(Value::Object(m));
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

fn boolean(cell: &str) -> Result<bool, String> {
    match cell.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => Err(format!(
            "must be true or false (or yes/no, 1/0), not {cell:?}"
        )),
    }
}

fn count(cell: &str) -> Result<Value, String> {
    cell.parse::<i64>()
        .map(Value::from)
        .map_err(|_| format!("must be a whole number, not {cell:?}"))
}

fn amount(cell: &str) -> Result<Value, String> {
    cell.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
        .ok_or_else(|| format!("must be a number such as 1299.50, not {cell:?}"))
}

/// A number written the way JSON writes it (so `5` stays whole and `5.0` does not).
fn json_number(cell: &str) -> Option<Number> {
    serde_json::from_str::<Number>(cell).ok()
}

fn kind_value(ty: FieldType, cell: &str) -> Result<Option<Value>, String> {
    Ok(Some(match ty {
        FieldType::Bool => Value::Bool(boolean(cell)?),
        FieldType::Count => count(cell)?,
        FieldType::Amount => amount(cell)?,
        FieldType::TextList | FieldType::IpList | FieldType::MacList => return list(cell),
        FieldType::Transfers => return transfers(cell),
        FieldType::Text
        | FieldType::Url
        | FieldType::Date
        | FieldType::Choice(_)
        | FieldType::Secret => Value::String(cell.to_string()),
    }))
}

fn custom_value(ty: Option<CustomType>, cell: &str) -> Result<Value, String> {
    Ok(match ty {
        Some(CustomType::Boolean) => Value::Bool(boolean(cell)?),
        Some(CustomType::Number) => match json_number(cell) {
            Some(n) => Value::Number(n),
            None => amount(cell)?,
        },
        Some(CustomType::Text | CustomType::Date | CustomType::Choice) => {
            Value::String(cell.to_string())
        }
        None => {
            if cell.eq_ignore_ascii_case("true") {
                Value::Bool(true)
            } else if cell.eq_ignore_ascii_case("false") {
                Value::Bool(false)
            } else if let Some(n) = json_number(cell) {
                Value::Number(n)
            } else {
                Value::String(cell.to_string())
            }
        }
    })
}

/// The CSV reader behind [`csv_rows`] and [`csv_rows_with`].
struct CsvRows<R: Read> {
    reader: csv::Reader<QuoteCheck<R>>,
    /// The asset custom fields' types, by key.
    custom_types: HashMap<String, CustomType>,
    /// Most columns the header may have.
    max_columns: usize,
    /// The columns, once the header is read.
    columns: Option<Vec<(String, Column)>>,
    record: csv::ByteRecord,
    /// The cell of `record` with text after its closing quote, if any.
    after_quote: Option<usize>,
    row: u64,
    done: bool,
}

impl<R: Read> CsvRows<R> {
    fn new(r: R, defs: Vec<CustomFieldDef>) -> Self {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            // Rows of the wrong width are reported by row number below rather than
            // as the reader's own error, which would not say which columns are missing.
            .flexible(true)
            .from_reader(QuoteCheck::new(r));
        Self {
            reader,
            max_columns: MAX_COLUMNS.saturating_add(defs.len()),
            custom_types: defs.into_iter().map(|d| (d.key, d.field_type)).collect(),
            columns: None,
            record: csv::ByteRecord::new(),
            after_quote: None,
            row: 0,
            done: false,
        }
    }

    fn fail(&mut self, field: &str, message: String) -> Option<Row> {
        Some((
            self.row,
            Err(RowError {
                row: self.row,
                field: field.to_string(),
                message,
            }),
        ))
    }

    /// Reads the next record into `self.record`; `Err` carries a message for the row.
    fn read(&mut self) -> Result<bool, String> {
        self.row += 1;
        let more = self
            .reader
            .read_byte_record(&mut self.record)
            .map_err(|e| format!("the file cannot be read past this row: {e}"))?;
        let start = self.record.position().map_or(0, csv::Position::byte);
        let end = self.reader.position().byte();
        self.after_quote = self.reader.get_mut().in_record(start, end);
        Ok(more)
    }

    fn header(&mut self) -> Result<Vec<(String, Column)>, (String, String)> {
        match self.read() {
            Ok(true) => {}
            Ok(false) => return Err((
                String::new(),
                "the file is empty: the first row must name the columns (kind, name, owner_id, …)"
                    .into(),
            )),
            Err(m) => return Err((String::new(), m)),
        }
        if self.record.len() > self.max_columns {
            return Err((
                String::new(),
                format!(
                    "the header row has {} columns, more than the {} an import takes: is this a list of assets, one column per field?",
                    self.record.len(),
                    self.max_columns
                ),
            ));
        }
        if let Some(i) = self.after_quote {
            return Err((
                String::new(),
                format!("column {} of the header row {AFTER_QUOTE}", i + 1),
            ));
        }
        let mut columns: Vec<(String, Column)> = Vec::with_capacity(self.record.len());
        let mut seen: HashSet<String> = HashSet::with_capacity(self.record.len());
        for (i, raw) in self.record.iter().enumerate() {
            // Spreadsheets save UTF-8 with a byte-order mark the CSV reader keeps.
            let raw = if i == 0 {
                raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
            } else {
                raw
            };
            let Ok(name) = std::str::from_utf8(raw) else {
                return Err((
                    String::new(),
                    format!(
                        "column {} of the header is not UTF-8 text: save the file as UTF-8 CSV",
                        i + 1
                    ),
                ));
            };
            let name = name.trim().to_string();
            let types = &self.custom_types;
            let col = Column::parse(&name, |key| types.get(key).copied())
                .map_err(|m| (name.clone(), m))?;
            // Nameless columns may repeat: they hold nothing.
            if !name.is_empty() {
                let identity = col.identity(&name);
                if seen.contains(&identity) {
                    let message = if identity == name {
                        "appears twice in the header row".to_string()
                    } else {
                        format!("is {identity} again: it appears twice in the header row")
                    };
                    return Err((name, message));
                }
                seen.insert(identity);
            }
            columns.push((name, col));
        }
        if let [(name, _)] = &columns[..] {
            if name.contains([';', '\t']) {
                return Err((
                    String::new(),
                    "the header row is one column holding ; or tabs: save the file as comma-separated CSV"
                        .into(),
                ));
            }
        }
        if columns.iter().all(|(_, c)| matches!(c, Column::Nameless)) {
            return Err((String::new(), "the header row names no columns".into()));
        }
        Ok(columns)
    }

    fn convert(
        &self,
        columns: &[(String, Column)],
    ) -> Result<Option<Map<String, Value>>, RowError> {
        let err = |field: &str, message: String| RowError {
            row: self.row,
            field: field.to_string(),
            message,
        };
        // Before the width: a stray quote can be what moved the cells.
        if let Some(i) = self.after_quote {
            return Err(match columns.get(i) {
                Some((name, _)) if !name.is_empty() => err(name, AFTER_QUOTE.into()),
                _ => err("", format!("cell {} {AFTER_QUOTE}", i + 1)),
            });
        }
        if self.record.len() != columns.len() {
            return Err(err(
                "",
                format!(
                    "the row has {} cells but the header names {} columns (a missing or extra comma, or an unclosed quote?)",
                    self.record.len(),
                    columns.len()
                ),
            ));
        }
        let mut row = Parts::default();
        let mut any = false;
        for ((name, col), raw) in columns.iter().zip(self.record.iter()) {
            let Ok(text) = std::str::from_utf8(raw) else {
                return Err(err(
                    name,
                    "is not UTF-8 text: save the file as UTF-8 CSV".into(),
                ));
            };
            let cell = text.trim();
            if cell.is_empty() {
                continue;
            }
            any = true;
            let cell = unguard(cell).trim();
            if cell.is_empty() {
                continue;
            }
            col.put(cell, &mut row).map_err(|m| err(name, m))?;
        }
        // A row of empty cells is spreadsheet padding, not an asset.
        Ok(any.then(|| row.finish()))
    }
}

impl<R: Read> Iterator for CsvRows<R> {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        if self.done {
            return None;
        }
        let columns = match self.columns.take() {
            Some(c) => c,
            None => match self.header() {
                Ok(c) => c,
                Err((field, message)) => {
                    self.done = true;
                    return self.fail(&field, message);
                }
            },
        };
        let out = loop {
            match self.read() {
                Ok(false) => {
                    self.done = true;
                    break None;
                }
                Err(m) => {
                    self.done = true;
                    break self.fail("", m);
                }
                Ok(true) => match self.convert(&columns) {
                    Ok(None) => continue,
                    Ok(Some(row)) => break Some((self.row, Ok(row))),
                    Err(e) => break Some((self.row, Err(e))),
                },
            }
        };
        self.columns = Some(columns);
        out
    }
}

/// Reads JSON Lines: one asset object per line.
///
/// The row number is the line number (from 1); blank lines are skipped; a line that is
/// not a JSON object is a [`RowError`] for that line, and so is an object that gives a
/// key twice, at any depth (the error's field is the key's path, such as `custom.colour`).
pub fn jsonl_rows<R: BufRead + Send>(
    r: R,
) -> impl Iterator<Item = (u64, Result<Map<String, Value>, RowError>)> + Send {
    JsonlRows {
        reader: r,
        line: 0,
        buf: Vec::new(),
        done: false,
    }
}

struct JsonlRows<R> {
    reader: R,
    line: u64,
    buf: Vec<u8>,
    done: bool,
}

enum Line {
    Eof,
    Read,
    TooLong,
}

impl<R: BufRead> JsonlRows<R> {
    /// Reads one line into `buf` (without its end), at most [`MAX_LINE`] bytes of it.
    fn read_line(&mut self) -> std::io::Result<Line> {
        self.buf.clear();
        let limit = (MAX_LINE + 1) as u64;
        let n = (&mut self.reader)
            .take(limit)
            .read_until(b'\n', &mut self.buf)?;
        if n == 0 {
            return Ok(Line::Eof);
        }
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
            return Ok(Line::Read);
        }
        if self.buf.len() <= MAX_LINE {
            return Ok(Line::Read); // the last line, without a line break
        }
        // Skip the rest of the overlong line without keeping it.
        loop {
            let (skip, found) = {
                let avail = self.reader.fill_buf()?;
                if avail.is_empty() {
                    break;
                }
                match avail.iter().position(|b| *b == b'\n') {
                    Some(i) => (i + 1, true),
                    None => (avail.len(), false),
                }
            };
            self.reader.consume(skip);
            if found {
                break;
            }
        }
        self.buf.clear();
        Ok(Line::TooLong)
    }

    fn error(&self, message: String) -> Option<Row> {
        self.error_at(String::new(), message)
    }

    fn error_at(&self, field: String, message: String) -> Option<Row> {
        Some((
            self.line,
            Err(RowError {
                row: self.line,
                field,
                message,
            }),
        ))
    }
}

impl<R: BufRead> Iterator for JsonlRows<R> {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        loop {
            if self.done {
                return None;
            }
            self.line += 1;
            match self.read_line() {
                Ok(Line::Eof) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    return self.error(format!("the file cannot be read past this line: {e}"));
                }
                Ok(Line::TooLong) => {
                    return self.error(format!(
                        "the line is longer than {} MiB; each line must hold one asset",
                        MAX_LINE / (1024 * 1024)
                    ))
                }
                Ok(Line::Read) => {}
            }
            let bytes = if self.line == 1 {
                self.buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&self.buf)
            } else {
                &self.buf[..]
            };
            let Ok(text) = std::str::from_utf8(bytes) else {
                return self.error("the line is not UTF-8 text".into());
            };
            if text.trim().is_empty() {
                continue;
            }
            return match json::parse(text) {
                Ok(Value::Object(o)) => Some((self.line, Ok(o))),
                Ok(other) => self.error(format!(
                    "must be a JSON object (one asset per line), not {}",
                    custodian_domain::value::type_name(&other)
                )),
                Err(JsonError::Duplicate(path)) => {
                    self.error_at(path, "appears twice in the object".into())
                }
                Err(JsonError::Invalid(e)) => {
                    // serde_json's message ends "at line 1 column N": only the column
                    // means anything here, the line is the row.
                    let msg = e.to_string();
                    let what = msg.split(" at line ").next().unwrap_or(&msg);
                    self.error(format!("is not valid JSON: {what} (column {})", e.column()))
                }
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn guard_round_trips() {
        for s in [
            "=1+1", "+x", "-y", "@z", "\tt", "'=a", "''=b", "'plain", "plain", "a=b",
        ] {
            assert_eq!(unguard(&guard(s)), s, "{s:?}");
        }
        assert_eq!(guard("=cmd"), "'=cmd");
        assert_eq!(guard("'=cmd"), "''=cmd");
        assert_eq!(guard("ok"), "ok");
        assert_eq!(unguard("'x"), "'x");
    }

    #[test]
    fn lists_split_on_semicolons_or_read_json() {
        assert_eq!(list(" a ; ;b;").unwrap(), Some(json!(["a", "b"])));
        assert_eq!(list(";").unwrap(), None);
        assert_eq!(list("[\"a;b\"]").unwrap(), Some(json!(["a;b"])));
        assert!(list("[oops").is_err());
    }

    #[test]
    fn transfers_take_pairs_or_json() {
        assert_eq!(
            transfers("US: SCCs; India: adequacy").unwrap(),
            Some(
                json!([{"country": "US", "safeguard": "SCCs"}, {"country": "India", "safeguard": "adequacy"}])
            )
        );
        assert!(transfers("US").is_err());
    }

    #[test]
    fn custom_values_follow_the_definition_when_known() {
        assert_eq!(custom_value(None, "4100").unwrap(), json!(4100));
        assert_eq!(custom_value(None, "TRUE").unwrap(), json!(true));
        assert_eq!(custom_value(None, "007").unwrap(), json!("007"));
        assert_eq!(
            custom_value(Some(CustomType::Text), "4100").unwrap(),
            json!("4100")
        );
        assert_eq!(
            custom_value(Some(CustomType::Number), "2.5").unwrap(),
            json!(2.5)
        );
        assert!(custom_value(Some(CustomType::Boolean), "maybe").is_err());
    }
}
