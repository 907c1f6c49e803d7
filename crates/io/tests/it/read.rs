//! Parsing of import files, without a database.

use std::io::Read;

use serde_json::{json, Value};

use custodian_app::import::RowError;
use custodian_domain::custom::CustomFieldDef;
use custodian_io::read::{csv_rows, csv_rows_with, jsonl_rows, MAX_COLUMNS};

type Rows = Vec<(u64, Result<serde_json::Map<String, Value>, RowError>)>;

fn csv(text: &str) -> Rows {
    csv_rows(text.as_bytes()).collect()
}

fn ok(rows: &Rows, i: usize) -> &serde_json::Map<String, Value> {
    match &rows[i].1 {
        Ok(m) => m,
        Err(e) => panic!("row {} failed: {e:?}", rows[i].0),
    }
}

fn err(rows: &Rows, i: usize) -> &RowError {
    match &rows[i].1 {
        Err(e) => e,
        Ok(m) => panic!("row {} parsed: {m:?}", rows[i].0),
    }
}

#[test]
fn cells_become_the_types_their_columns_expect() {
    let rows = csv(concat!(
        "kind,name,owner_id,importance,classification,tags,encrypted,purchase_cost,ip_addresses,",
        "licences_purchased,international_transfers,custom.cost_centre,custom.insured,custom.floor,",
        "external_ids.mdm,external_ids,next_review_at,colour,description\n",
        "physical,Laptop,ada@example.com,high,internal, a ; b ;,Yes,1299.50,10.0.0.1;10.0.0.2,",
        "12,\"[{\"\"country\"\": \"\"US\"\", \"\"safeguard\"\": \"\"SCCs\"\"}]\",CC-1,true,3,",
        "M-1,\"{\"\"aws\"\": \"\"i-1\"\"}\",2026-01-31,blue,\n",
    ));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, 2, "the first data row is row 2");
    let m = ok(&rows, 0);
    assert_eq!(m["kind"], json!("physical"));
    assert_eq!(m["owner_id"], json!("ada@example.com"));
    assert_eq!(m["tags"], json!(["a", "b"]));
    assert_eq!(m["encrypted"], json!(true));
    assert_eq!(m["purchase_cost"], json!(1299.5));
    assert_eq!(m["ip_addresses"], json!(["10.0.0.1", "10.0.0.2"]));
    assert_eq!(m["licences_purchased"], json!(12));
    assert_eq!(
        m["international_transfers"],
        json!([{"country": "US", "safeguard": "SCCs"}])
    );
    assert_eq!(
        m["custom"],
        json!({"cost_centre": "CC-1", "insured": true, "floor": 3})
    );
    assert_eq!(m["external_ids"], json!({"mdm": "M-1", "aws": "i-1"}));
    assert_eq!(m["next_review_at"], json!("2026-01-31"));
    assert_eq!(
        m["colour"],
        json!("blue"),
        "unknown columns pass through for the domain to name"
    );
    assert!(!m.contains_key("description"), "an empty cell is not set");
}

#[test]
fn bad_cells_and_lines_are_reported_by_row_and_column() {
    let mut data = b"kind,name,encrypted,licences_used,purchase_cost\n".to_vec();
    data.extend_from_slice(b"physical,ok,no,1,2\n"); // row 2
    data.extend_from_slice(b"physical,bad bool,perhaps,1,2\n"); // row 3
    data.extend_from_slice(b"software,bad count,,1.5,\n"); // row 4
    data.extend_from_slice(b"physical,too,many,cells,1,2\n"); // row 5
    data.extend_from_slice(b"physical,caf\xe9,0,,\n"); // row 6: Latin-1, not UTF-8
    data.extend_from_slice(b"physical,bad amount,,,12 EUR\n"); // row 7
    data.extend_from_slice(b",,,,\n"); // row 8: padding, skipped
    data.extend_from_slice(b"\"physical\",\"two\nlines\",1,,\n"); // row 9
    data.extend_from_slice(b"physical,last,TRUE,,\n"); // row 10
    let rows: Rows = csv_rows(&data[..]).collect();
    let numbers: Vec<u64> = rows.iter().map(|r| r.0).collect();
    assert_eq!(numbers, [2, 3, 4, 5, 6, 7, 9, 10]);
    assert_eq!(ok(&rows, 0)["encrypted"], json!(false));
    let e = err(&rows, 1);
    assert_eq!((e.row, e.field.as_str()), (3, "encrypted"));
    assert!(e.message.contains("perhaps"), "{}", e.message);
    let e = err(&rows, 2);
    assert_eq!((e.row, e.field.as_str()), (4, "licences_used"));
    let e = err(&rows, 3);
    assert_eq!((e.row, e.field.as_str()), (5, ""));
    assert!(
        e.message.contains("6 cells") && e.message.contains("5 columns"),
        "{}",
        e.message
    );
    let e = err(&rows, 4);
    assert_eq!((e.row, e.field.as_str()), (6, "name"));
    assert!(e.message.contains("UTF-8"));
    let e = err(&rows, 5);
    assert_eq!((e.row, e.field.as_str()), (7, "purchase_cost"));
    assert_eq!(ok(&rows, 6)["name"], json!("two\nlines"));
    assert_eq!(ok(&rows, 7)["encrypted"], json!(true));
}

#[test]
fn the_formula_guard_is_undone_on_import() {
    let rows = csv("kind,name,description,tags\nphysical,'=1+1,'plain,'-x;y\n");
    let m = ok(&rows, 0);
    assert_eq!(m["name"], json!("=1+1"));
    assert_eq!(
        m["description"],
        json!("'plain"),
        "a quote before ordinary text is kept"
    );
    assert_eq!(m["tags"], json!(["-x", "y"]));
}

#[test]
fn headers_are_checked() {
    let rows = csv("");
    assert_eq!(rows.len(), 1);
    let e = err(&rows, 0);
    assert_eq!(e.row, 1);
    assert!(e.message.contains("empty"));
    let rows = csv("name,kind,name\nx,physical,y\n");
    assert_eq!(rows.len(), 1);
    let e = err(&rows, 0);
    assert_eq!((e.row, e.field.as_str()), (1, "name"));
    let rows = csv("kind;name\nphysical;x\n");
    assert!(err(&rows, 0).message.contains("comma-separated"));
    // A spreadsheet's byte-order mark does not become part of the first column's name.
    let rows = csv("\u{feff}kind,name\nphysical,x\n");
    assert_eq!(ok(&rows, 0)["kind"], json!("physical"));
    // A column without a name may be there, but must stay empty.
    let rows = csv("kind,,name\nphysical,,x\nphysical,oops,y\n");
    assert_eq!(ok(&rows, 0)["name"], json!("x"));
    assert_eq!(err(&rows, 1).row, 3);
}

#[test]
fn custom_fields_follow_their_definitions_when_given() {
    let def = |key: &str, ty: &str| {
        CustomFieldDef::from_input(
            &crate::obj(
                json!({"entity_type": "asset", "key": key, "label": key, "field_type": ty}),
            ),
            custodian_domain::now(),
        )
        .expect("definition")
    };
    let text = "kind,custom.code,custom.count,custom.ok\nphysical,4100,7,no\n";
    let guessed: Rows = csv_rows(text.as_bytes()).collect();
    assert_eq!(
        ok(&guessed, 0)["custom"],
        json!({"code": 4100, "count": 7, "ok": "no"})
    );
    let typed: Rows = csv_rows_with(
        text.as_bytes(),
        vec![
            def("code", "text"),
            def("count", "number"),
            def("ok", "boolean"),
        ],
    )
    .collect();
    assert_eq!(
        ok(&typed, 0)["custom"],
        json!({"code": "4100", "count": 7, "ok": false})
    );
}

#[test]
fn json_lines_are_numbered_by_line() {
    let text = "{\"kind\": \"data\", \"name\": \"A\"}\n\n   \r\n[1, 2]\n{\"name\": oops}\r\n\u{0}\n{\"name\": \"B\"}";
    let rows: Rows = jsonl_rows(text.as_bytes()).collect();
    let numbers: Vec<u64> = rows.iter().map(|r| r.0).collect();
    assert_eq!(numbers, [1, 4, 5, 6, 7]);
    assert_eq!(ok(&rows, 0)["name"], json!("A"));
    let e = err(&rows, 1);
    assert_eq!((e.row, e.field.as_str()), (4, ""));
    assert!(e.message.contains("a list"), "{}", e.message);
    let e = err(&rows, 2);
    assert!(
        e.message.contains("not valid JSON") && !e.message.contains("line 1"),
        "{}",
        e.message
    );
    assert_eq!(err(&rows, 3).row, 6);
    assert_eq!(ok(&rows, 4)["name"], json!("B"));
}

#[test]
fn text_after_a_closing_quote_is_refused_by_row_and_column() {
    let rows = csv(concat!(
        "kind,name,description\r\n",
        "physical,\"x\"y,\r\n",                  // row 2
        "physical,ok,\"say \"hi\" there\"\r\n",  // row 3
        "physical,\"a, \"\"b\"\"\nc\",\"\"\r\n", // row 4: well-formed quotes
        "physical,Dell 24\" monitor,a\"b\r\n",   // row 5: quotes inside bare cells
        "\"physical\" ,spaced,\r\n",             // row 6
        "physical,wide,,\"1\"2\r\n",             // row 7: beyond the header
        "physical,last,\"fine\"",                // row 8
    ));
    let numbers: Vec<u64> = rows.iter().map(|r| r.0).collect();
    assert_eq!(numbers, [2, 3, 4, 5, 6, 7, 8]);
    let e = err(&rows, 0);
    assert_eq!((e.row, e.field.as_str()), (2, "name"));
    assert!(
        e.message.contains("text after its closing quote") && e.message.contains("\"x\"\"y\""),
        "{}",
        e.message
    );
    let e = err(&rows, 1);
    assert_eq!((e.row, e.field.as_str()), (3, "description"));
    assert_eq!(ok(&rows, 2)["name"], json!("a, \"b\"\nc"));
    assert!(!ok(&rows, 2).contains_key("description"));
    assert_eq!(ok(&rows, 3)["name"], json!("Dell 24\" monitor"));
    assert_eq!(ok(&rows, 3)["description"], json!("a\"b"));
    let e = err(&rows, 4);
    assert_eq!(
        (e.row, e.field.as_str()),
        (6, "kind"),
        "a space is text too"
    );
    let e = err(&rows, 5);
    assert_eq!((e.row, e.field.as_str()), (7, ""));
    assert!(
        e.message
            .starts_with("cell 4 has text after its closing quote"),
        "{}",
        e.message
    );
    assert_eq!(ok(&rows, 6)["description"], json!("fine"));

    let rows = csv("kind,\"name\"x\nphysical,y\n");
    assert_eq!(rows.len(), 1);
    let e = err(&rows, 0);
    assert_eq!((e.row, e.field.as_str()), (1, ""));
    assert!(
        e.message
            .starts_with("column 2 of the header row has text after its closing quote"),
        "{}",
        e.message
    );
}

#[test]
fn a_quote_problem_is_found_however_the_input_is_split() {
    /// Hands out its text a few bytes at a time, as a slow pipe would.
    struct Trickle(Vec<u8>, usize);
    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(3).min(self.0.len() - self.1);
            buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
    }
    let mut text = String::from("kind,name\n");
    for i in 0..5000 {
        if i % 1000 == 999 {
            text.push_str("physical,\"bad\"x\n");
        } else {
            text.push_str(&format!("physical,\"a \"\"{i}\"\", b\"\n"));
        }
    }
    let rows: Rows = csv_rows(Trickle(text.into_bytes(), 0)).collect();
    let bad: Vec<(u64, &str)> = rows
        .iter()
        .filter_map(|(_, r)| r.as_ref().err())
        .map(|e| (e.row, e.field.as_str()))
        .collect();
    assert_eq!(
        bad,
        [
            (1001, "name"),
            (2001, "name"),
            (3001, "name"),
            (4001, "name"),
            (5001, "name")
        ]
    );
    assert_eq!(ok(&rows, 1)["name"], json!("a \"1\", b"));
}

/// A header of `n` columns: `kind`, `name`, then custom fields.
fn wide_header(n: usize) -> String {
    let mut text = String::from("kind,name");
    for i in 2..n {
        text.push_str(&format!(",custom.c{i}"));
    }
    text.push('\n');
    text
}

#[test]
fn a_header_wider_than_the_cap_is_refused() {
    for header in [
        wide_header(100_000),
        format!("kind,name{}\n", ",".repeat(99_998)),
        wide_header(MAX_COLUMNS + 1),
    ] {
        let width = header.split(',').count();
        let text = format!("{header}physical,x{}\n", ",".repeat(width - 2));
        let rows = csv(&text);
        assert_eq!(rows.len(), 1, "the import stops at the header");
        let e = err(&rows, 0);
        assert_eq!((e.row, e.field.as_str()), (1, ""));
        assert!(
            e.message.contains(&format!("has {width} columns"))
                && e.message.contains(&format!("the {MAX_COLUMNS} ")),
            "{}",
            e.message
        );
    }
}

#[test]
fn a_wide_header_within_the_cap_is_read() {
    let header = wide_header(MAX_COLUMNS);
    let mut text = format!("{header}physical,Wide");
    for i in 2..MAX_COLUMNS {
        text.push_str(&format!(",{i}"));
    }
    text.push('\n');
    let rows = csv(&text);
    let custom = ok(&rows, 0)["custom"].as_object().expect("custom");
    assert_eq!(custom.len(), MAX_COLUMNS - 2);
    assert_eq!(custom["c999"], json!(999));

    // The register's own custom fields come on top, so any export reads back.
    let defs: Vec<CustomFieldDef> = (0..50)
        .map(|i| {
            CustomFieldDef::from_input(
                &crate::obj(json!({"entity_type": "asset", "key": format!("d{i}"), "label": "D", "field_type": "text"})),
                custodian_domain::now(),
            )
            .expect("definition")
        })
        .collect();
    let mut header = wide_header(MAX_COLUMNS);
    header.pop();
    for i in 0..50 {
        header.push_str(&format!(",custom.d{i}"));
    }
    let text = format!("{header}\nphysical,Wide{}\n", ",".repeat(MAX_COLUMNS + 48));
    let rows: Rows = csv_rows_with(text.as_bytes(), defs.clone()).collect();
    assert_eq!(ok(&rows, 0)["name"], json!("Wide"));
    let text = format!(
        "{header},one.more\nphysical,Wide{}\n",
        ",".repeat(MAX_COLUMNS + 49)
    );
    let rows: Rows = csv_rows_with(text.as_bytes(), defs).collect();
    assert!(
        err(&rows, 0)
            .message
            .contains(&format!("{} columns", MAX_COLUMNS + 51)),
        "{:?}",
        rows[0]
    );
}

#[test]
fn a_row_much_wider_than_its_header_is_refused() {
    let text = format!(
        "kind,name\nphysical,x{}\nphysical,y\n",
        ",".repeat(1_000_000)
    );
    let rows = csv(&text);
    let e = err(&rows, 0);
    assert_eq!((e.row, e.field.as_str()), (2, ""));
    assert!(e.message.contains("1000002 cells"), "{}", e.message);
    assert_eq!(ok(&rows, 1)["name"], json!("y"));
}

#[test]
fn columns_that_fill_the_same_field_are_refused() {
    let rows = csv("kind,custom.colour,name,custom. colour\nphysical,red,x,blue\n");
    assert_eq!(rows.len(), 1);
    let e = err(&rows, 0);
    assert_eq!((e.row, e.field.as_str()), (1, "custom. colour"));
    assert!(e.message.contains("custom.colour again"), "{}", e.message);
    let rows = csv("kind,external_ids.mdm,external_ids. mdm\nphysical,a,b\n");
    assert_eq!(err(&rows, 0).field, "external_ids. mdm");
}

#[test]
fn a_json_cell_may_not_set_what_a_column_of_its_row_sets() {
    let rows = csv(concat!(
        "kind,name,custom.colour,custom,external_ids,external_ids.mdm\n",
        "physical,a,red,\"{\"\"colour\"\": \"\"blue\"\"}\",,\n",
        "physical,b,,,\"{\"\"mdm\"\": \"\"M-1\"\"}\",M-2\n",
        "physical,c,red,\"{\"\"size\"\": 3}\",\"{\"\"aws\"\": \"\"i-1\"\"}\",M-3\n",
    ));
    let e = err(&rows, 0);
    assert_eq!((e.row, e.field.as_str()), (2, "custom"));
    assert!(e.message.contains("custom.colour"), "{}", e.message);
    let e = err(&rows, 1);
    assert_eq!((e.row, e.field.as_str()), (3, "external_ids.mdm"));
    let m = ok(&rows, 2);
    assert_eq!(m["custom"], json!({"colour": "red", "size": 3}));
    assert_eq!(m["external_ids"], json!({"aws": "i-1", "mdm": "M-3"}));
}

#[test]
fn json_cells_refuse_a_key_given_twice() {
    let rows = csv(concat!(
        "kind,name,external_ids,international_transfers\n",
        "physical,a,\"{\"\"mdm\"\": \"\"A\"\", \"\"mdm\"\": \"\"B\"\"}\",\n",
        "data,b,,\"[{\"\"country\"\": \"\"US\"\", \"\"country\"\": \"\"UK\"\", \"\"safeguard\"\": \"\"SCCs\"\"}]\"\n",
    ));
    let e = err(&rows, 0);
    assert_eq!((e.row, e.field.as_str()), (2, "external_ids"));
    assert!(e.message.contains("mdm twice"), "{}", e.message);
    let e = err(&rows, 1);
    assert_eq!((e.row, e.field.as_str()), (3, "international_transfers"));
    assert!(e.message.contains("[0].country twice"), "{}", e.message);
}

#[test]
fn json_lines_refuse_a_key_given_twice() {
    let text = concat!(
        "{\"name\": \"a\", \"name\": \"b\"}\n",
        "{\"name\": \"c\", \"custom\": {\"colour\": \"red\", \"size\": 1, \"colour\": \"blue\"}}\n",
        "{\"name\": \"d\", \"international_transfers\": [{\"country\": \"US\", \"country\": \"UK\"}]}\n",
        "{\"name\": \"e\", \"custom\": {\"name\": \"e\"}, \"external_ids\": {\"name\": \"e\"}}\n",
        "{\"name\": \"f\", \"name\": oops}\n",
    );
    let rows: Rows = jsonl_rows(text.as_bytes()).collect();
    let e = err(&rows, 0);
    assert_eq!((e.row, e.field.as_str()), (1, "name"));
    assert_eq!(e.message, "appears twice in the object");
    let e = err(&rows, 1);
    assert_eq!((e.row, e.field.as_str()), (2, "custom.colour"));
    let e = err(&rows, 2);
    assert_eq!(
        (e.row, e.field.as_str()),
        (3, "international_transfers[0].country")
    );
    let m = ok(&rows, 3);
    assert_eq!(
        m["custom"],
        json!({"name": "e"}),
        "the same key in another object is fine"
    );
    // A value that is not JSON is reported as such, duplicate key or not.
    let e = err(&rows, 4);
    assert_eq!((e.row, e.field.as_str()), (5, ""));
    assert!(e.message.contains("not valid JSON"), "{}", e.message);
}

/// Produces a CSV of `rows` assets on the fly, never holding more than one line.
struct Generated {
    next: u64,
    rows: u64,
    line: Vec<u8>,
    pos: usize,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.line.len() {
            if self.next > self.rows {
                return Ok(0);
            }
            self.line = if self.next == 0 {
                b"kind,name,owner_id,importance,classification,serial_number,encrypted\n".to_vec()
            } else {
                format!(
                    "physical,Laptop {0},it@example.com,low,internal,SN{0},yes\n",
                    self.next
                )
                .into_bytes()
            };
            self.next += 1;
            self.pos = 0;
        }
        let n = buf.len().min(self.line.len() - self.pos);
        buf[..n].copy_from_slice(&self.line[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn csv_is_read_as_a_stream() {
    let rows = 200_000;
    let source = Generated {
        next: 0,
        rows,
        line: Vec::new(),
        pos: 0,
    };
    let mut last = 0;
    for (n, r) in csv_rows(source) {
        let m = r.expect("row parses");
        assert_eq!(m["encrypted"], json!(true));
        last = n;
    }
    assert_eq!(last, rows + 1);
}
