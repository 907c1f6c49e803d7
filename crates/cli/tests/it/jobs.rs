//! Scheduled jobs: each of the register's runs once per interval across instances sharing
//! the database, does its work, and shows in `/metrics`.

use std::sync::Arc;

use custodian_app::{App, Ctx, Settings};
use custodian_store_sql::SqlStore;
use custodian_testkit::TestDb;

use crate::common::start;

crate::on_both!(
    a_job_of_the_register_runs_once_across_instances,
    jobs_show_in_metrics
);

async fn instance(db: &TestDb) -> App {
    let app = App::new(
        Arc::new(SqlStore::open(&db.url).await.expect("open")),
        Settings::default(),
    );
    app.ensure_defaults(&Ctx::system()).await.expect("defaults");
    app
}

async fn a_job_of_the_register_runs_once_across_instances(backend: &str) {
    let db = TestDb::new(backend).await;
    let (a, b) = (instance(&db).await, instance(&db).await);
    a.run_due_jobs(&[]).await;
    b.run_due_jobs(&[]).await;
    a.run_due_jobs(&[]).await;
    for job in custodian_app::jobs::Job::ALL {
        let name = job.name();
        assert_eq!(a.job_states().get(name).map(|s| s.runs), Some(1), "{name}");
        assert!(!b.job_states().contains_key(name), "{name} ran twice");
    }
    let runs = a.store().job_runs().await.expect("runs");
    assert_eq!(runs.len(), custodian_app::jobs::Job::ALL.len());
    assert!(
        runs.iter().all(|r| r.outcome.as_deref() == Some("ok")),
        "{runs:?}"
    );

    // A setup link past its day is purged when the job is next due, by either instance.
    let (_, setup) = a
        .create_user(
            &Ctx::system(),
            serde_json::json!({"email": "new@test.example", "role": "member"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )
        .await
        .expect("an account");
    assert!(a.setup_link_email(&setup).await.is_ok());
    db.execute(
        "UPDATE settings SET value = substr(value, 1, 36) || ' 2000-01-01T00:00:00.000000Z' WHERE key LIKE 'setup:%'; \
         UPDATE job_runs SET started_at = '2000-01-01T00:00:00.000000Z' WHERE name = 'purge_setup_links'",
    )
    .await
    .expect("an old link");
    b.run_due_jobs(&[]).await;
    let st = b.job_states();
    let purge = st.get("purge_setup_links").expect("ran");
    assert_eq!(purge.detail, "1 setup links purged");
    assert!(a.setup_link_email(&setup).await.is_err());
}

async fn jobs_show_in_metrics(backend: &str) {
    let s = start(backend).await;
    // The runner's first round starts with the server.
    let mut text = String::new();
    for _ in 0..100 {
        text = s.metrics().await;
        if text.contains("custodian_job_runs_total{job=\"purge_rate_windows\"} 1") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for job in [
        "audit_head",
        "purge_sessions",
        "purge_setup_links",
        "purge_rate_windows",
    ] {
        assert!(
            text.contains(&format!("custodian_job_last_run_ok{{job=\"{job}\"}} 1")),
            "{job}: {text}"
        );
        assert!(
            text.contains(&format!(
                "custodian_job_last_run_timestamp_seconds{{job=\"{job}\"}}"
            )),
            "{job}"
        );
    }
}
