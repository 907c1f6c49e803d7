-- Scheduled jobs: when each last started and finished, so that a job runs once per interval
-- across every instance sharing the database.
CREATE TABLE job_runs (
    name        TEXT PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    outcome     TEXT
);
