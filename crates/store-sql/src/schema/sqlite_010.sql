-- Compliance measurement (SPEC §8): findings and their history, each subject's outcomes,
-- the tallies per check, the daily snapshots and where the evaluation stands. All derived
-- from the register; written by the evaluation, outside the audit chain.
CREATE TABLE compliance_findings (
    seq             INTEGER PRIMARY KEY,
    id              BLOB NOT NULL UNIQUE,
    check_id        TEXT NOT NULL,
    subject_type    TEXT NOT NULL,
    subject_id      BLOB NOT NULL,
    status          TEXT NOT NULL,
    first_failed_at TEXT NOT NULL,
    resolved_at     TEXT,
    message         TEXT NOT NULL,
    owner_id        BLOB,
    exception_id    BLOB,
    changed_at      TEXT NOT NULL,
    UNIQUE (subject_type, subject_id, check_id)
);
CREATE INDEX compliance_findings_status ON compliance_findings (status, seq);
CREATE INDEX compliance_findings_check ON compliance_findings (check_id, seq);
CREATE INDEX compliance_findings_check_status ON compliance_findings (check_id, status, seq);
CREATE INDEX compliance_findings_owner ON compliance_findings (owner_id, status, seq);

CREATE TABLE compliance_finding_events (
    finding_id BLOB NOT NULL,
    at         TEXT NOT NULL,
    status     TEXT NOT NULL,
    message    TEXT NOT NULL
);
CREATE INDEX compliance_finding_events_finding ON compliance_finding_events (finding_id, at);

CREATE TABLE compliance_outcomes (
    subject_type TEXT NOT NULL,
    subject_id   BLOB NOT NULL,
    applicable   INTEGER NOT NULL,
    failing      INTEGER NOT NULL,
    excepted     INTEGER NOT NULL,
    PRIMARY KEY (subject_type, subject_id)
) WITHOUT ROWID;

CREATE TABLE compliance_tallies (
    check_id       TEXT PRIMARY KEY,
    pass           INTEGER NOT NULL,
    fail           INTEGER NOT NULL,
    excepted       INTEGER NOT NULL,
    not_applicable INTEGER NOT NULL
);

CREATE TABLE compliance_snapshots (
    check_id       TEXT NOT NULL,
    day            TEXT NOT NULL,
    pass           INTEGER NOT NULL,
    fail           INTEGER NOT NULL,
    excepted       INTEGER NOT NULL,
    not_applicable INTEGER NOT NULL,
    audit_seq      INTEGER NOT NULL,
    audit_hash     TEXT NOT NULL,
    computed_at    TEXT NOT NULL,
    PRIMARY KEY (check_id, day)
);
CREATE INDEX compliance_snapshots_day ON compliance_snapshots (day);

CREATE TABLE compliance_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    follow_seq  INTEGER NOT NULL,
    full_day    TEXT,
    layout      TEXT NOT NULL,
    computed_at TEXT,
    audit_seq   INTEGER NOT NULL,
    audit_hash  TEXT NOT NULL
);
