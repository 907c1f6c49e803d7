//! Importing files through the application's importer.

use serde_json::json;

use custodian_app::import::{ImportOptions, ImportReport};
use custodian_app::{App, Ctx};
use custodian_domain::party::Party;
use custodian_io::read::{csv_rows, jsonl_rows};
use custodian_store::MatchKey;

use crate::{all_assets, app, obj};

async fn person(app: &App, name: &str, email: &str) -> Party {
    app.create_party(
        &Ctx::system(),
        obj(json!({"kind": "person", "name": name, "email": email})),
    )
    .await
    .expect("person")
}

async fn import_csv(app: &App, text: &str, opts: ImportOptions) -> ImportReport {
    app.import_assets(&Ctx::system(), csv_rows(text.as_bytes()), opts)
        .await
        .expect("import runs")
}

const HEADER: &str = "kind,name,owner_id,importance,classification,serial_number,encrypted,tags\n";

#[tokio::test]
async fn bad_rows_are_each_reported_and_nothing_is_stored() {
    let (app, _db) = app("sqlite").await;
    person(&app, "Ada Lovelace", "ada@example.com").await;
    let text = format!(
        "{HEADER}\
         physical,Good laptop,ada@example.com,high,internal,SN-1,yes,laptop\n\
         physical,Bad importance,ada@example.com,urgent,internal,SN-2,yes,\n\
         physical,Unknown owner,nobody@example.com,low,internal,SN-3,no,\n\
         physical,Bad flag,ada@example.com,low,internal,SN-4,sometimes,\n\
         physical,Broken,row\n\
         physical,No classification level,ada@example.com,low,secret,SN-6,no,\n"
    );
    let report = import_csv(&app, &text, ImportOptions::default()).await;
    assert!(report.failed());
    assert!(!report.committed);
    assert_eq!(report.created, 0);
    let mut errors: Vec<(u64, &str)> = report
        .errors
        .iter()
        .map(|e| (e.row, e.field.as_str()))
        .collect();
    errors.sort();
    assert_eq!(
        errors,
        [
            (3, "importance"),
            (4, "owner_id"),
            (5, "encrypted"),
            (6, ""),
            (7, "classification")
        ],
        "{:#?}",
        report.errors
    );
    assert!(
        all_assets(&app).await.is_empty(),
        "an import with a bad row stores nothing"
    );
}

#[tokio::test]
async fn a_dry_run_reports_and_stores_nothing() {
    let (app, _db) = app("sqlite").await;
    person(&app, "Ada Lovelace", "ada@example.com").await;
    let text = format!(
        "{HEADER}\
         physical,Laptop 1,ada@example.com,high,internal,SN-1,yes,\n\
         physical,Laptop 2,Ada Lovelace,low,internal,SN-2,no,\n"
    );
    let report = import_csv(
        &app,
        &text,
        ImportOptions {
            match_key: None,
            dry_run: true,
        },
    )
    .await;
    assert!(!report.failed(), "{:?}", report.errors);
    assert_eq!((report.rows, report.created), (2, 2));
    assert!(report.dry_run && !report.committed);
    assert!(all_assets(&app).await.is_empty());
}

#[tokio::test]
async fn owners_are_found_by_email_name_or_id() {
    let (app, _db) = app("sqlite").await;
    let ctx = Ctx::system();
    let ada = person(&app, "Ada Lovelace", "ada@example.com").await;
    let grace = person(&app, "Grace Hopper", "grace@example.com").await;
    let team = app
        .create_party(
            &ctx,
            obj(json!({"kind": "team", "name": "IT", "member_ids": [grace.id]})),
        )
        .await
        .expect("team");
    let text = format!(
        "{HEADER}\
         physical,By e-mail,ADA@example.com,low,internal,SN-1,yes,\n\
         physical,By name,grace hopper,low,internal,SN-2,yes,\n\
         physical,By team name,IT,low,internal,SN-3,yes,\n\
         physical,By id,{},low,internal,SN-4,yes,\n",
        ada.id
    );
    let report = import_csv(&app, &text, ImportOptions::default()).await;
    assert!(report.committed, "{:?}", report.errors);
    let owners: Vec<_> = all_assets(&app)
        .await
        .into_iter()
        .map(|v| (v.asset.name, v.asset.owner_id))
        .collect();
    assert_eq!(
        owners,
        [
            ("By e-mail".to_string(), ada.id),
            ("By name".to_string(), grace.id),
            ("By team name".to_string(), team.id),
            ("By id".to_string(), ada.id),
        ]
    );
}

#[tokio::test]
async fn a_reimport_matched_on_serial_number_updates_in_place() {
    let (app, _db) = app("sqlite").await;
    person(&app, "Ada Lovelace", "ada@example.com").await;
    let first = format!("{HEADER}physical,Laptop,ada@example.com,low,internal,SN-1,no,\n");
    assert!(
        import_csv(&app, &first, ImportOptions::default())
            .await
            .committed
    );
    let second = format!(
        "{HEADER}\
         physical,Laptop,ada@example.com,low,internal,SN-1,yes,\n\
         physical,Phone,ada@example.com,low,internal,SN-2,yes,\n"
    );
    let opts = ImportOptions {
        match_key: Some(MatchKey::SerialNumber),
        dry_run: false,
    };
    let report = import_csv(&app, &second, opts).await;
    assert!(report.committed, "{:?}", report.errors);
    assert_eq!((report.created, report.updated), (1, 1));
    assert_eq!(report.changes[0].2, ["encrypted"]);
    let assets = all_assets(&app).await;
    assert_eq!(assets.len(), 2);
    assert_eq!(assets[0].asset.attr_bool("encrypted"), Some(true));
}

#[tokio::test]
async fn json_lines_import_like_the_api_takes_assets() {
    let (app, _db) = app("sqlite").await;
    person(&app, "Ada Lovelace", "ada@example.com").await;
    let text = concat!(
        "{\"kind\": \"data\", \"name\": \"Customer list\", \"owner_id\": \"ada@example.com\", ",
        "\"importance\": \"high\", \"classification\": \"confidential\", \"contains_personal_data\": true}\n",
        "\n",
        "{\"kind\": \"data\", \"name\": \"Bad\", \"owner_id\": \"ada@example.com\", \"importance\": \"high\", ",
        "\"classification\": \"confidential\", \"volume\": -1}\n",
        "not json\n",
    );
    let report = app
        .import_assets(
            &Ctx::system(),
            jsonl_rows(text.as_bytes()),
            ImportOptions::default(),
        )
        .await
        .expect("import runs");
    let mut errors: Vec<(u64, &str)> = report
        .errors
        .iter()
        .map(|e| (e.row, e.field.as_str()))
        .collect();
    errors.sort();
    assert_eq!(errors, [(3, "volume"), (4, "")]);
    assert!(all_assets(&app).await.is_empty());
}

#[tokio::test]
async fn rows_the_readers_refuse_are_reported_by_row_and_field_and_nothing_is_stored() {
    let (app, _db) = app("sqlite").await;
    person(&app, "Ada Lovelace", "ada@example.com").await;
    let errors = |report: &ImportReport| -> Vec<(u64, String)> {
        let mut e: Vec<(u64, String)> = report
            .errors
            .iter()
            .map(|e| (e.row, e.field.clone()))
            .collect();
        e.sort();
        e
    };

    let text = format!(
        "{HEADER}\
         physical,Good laptop,ada@example.com,high,internal,SN-1,yes,\n\
         physical,\"Laptop \"Pro\"\",ada@example.com,high,internal,SN-2,yes,\n"
    );
    let report = import_csv(&app, &text, ImportOptions::default()).await;
    assert!(!report.committed);
    assert_eq!(errors(&report), [(3, "name".to_string())]);
    assert!(report.errors[0].message.contains("closing quote"));

    let mut text = HEADER.trim_end().to_string();
    for i in 0..100_000 {
        text.push_str(&format!(",extra{i}"));
    }
    text.push_str("\nphysical,Laptop,ada@example.com,high,internal,SN-3,yes,\n");
    let report = import_csv(&app, &text, ImportOptions::default()).await;
    assert!(!report.committed);
    assert_eq!(errors(&report), [(1, String::new())]);
    assert!(report.errors[0].message.contains("100008 columns"));

    let text = concat!(
        "{\"kind\": \"data\", \"name\": \"Customer list\", \"owner_id\": \"ada@example.com\", ",
        "\"importance\": \"high\", \"classification\": \"confidential\"}\n",
        "{\"kind\": \"data\", \"name\": \"A\", \"name\": \"B\", \"owner_id\": \"ada@example.com\", ",
        "\"importance\": \"high\", \"classification\": \"confidential\"}\n",
        "{\"kind\": \"data\", \"name\": \"C\", \"owner_id\": \"ada@example.com\", ",
        "\"importance\": \"high\", \"classification\": \"confidential\", \"custom\": {\"x\": 1, \"x\": 2}}\n",
    );
    let report = app
        .import_assets(
            &Ctx::system(),
            jsonl_rows(text.as_bytes()),
            ImportOptions::default(),
        )
        .await
        .expect("import runs");
    assert!(!report.committed);
    assert_eq!(
        errors(&report),
        [(2, "name".to_string()), (3, "custom.x".to_string())]
    );
    assert!(
        all_assets(&app).await.is_empty(),
        "an import with a refused row stores nothing"
    );
}
