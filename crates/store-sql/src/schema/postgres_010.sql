-- Compliance measurement (SPEC §8, PostgreSQL): findings and their history, each subject's outcomes,
-- the tallies per check, the daily snapshots and where the evaluation stands. All derived
-- from the register; written by the evaluation, outside the audit chain.
CREATE TABLE compliance_findings (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              UUID NOT NULL UNIQUE,
    check_id        TEXT NOT NULL,
    subject_type    TEXT NOT NULL,
    subject_id      UUID NOT NULL,
    status          TEXT NOT NULL,
    first_failed_at TIMESTAMPTZ NOT NULL,
    resolved_at     TIMESTAMPTZ,
    message         TEXT NOT NULL,
    owner_id        UUID,
    exception_id    UUID,
    changed_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (subject_type, subject_id, check_id)
);
CREATE INDEX compliance_findings_status ON compliance_findings (status, seq);
CREATE INDEX compliance_findings_check ON compliance_findings (check_id, seq);
CREATE INDEX compliance_findings_check_status ON compliance_findings (check_id, status, seq);
CREATE INDEX compliance_findings_owner ON compliance_findings (owner_id, status, seq);

CREATE TABLE compliance_finding_events (
    finding_id UUID NOT NULL,
    at         TIMESTAMPTZ NOT NULL,
    status     TEXT NOT NULL,
    message    TEXT NOT NULL
);
CREATE INDEX compliance_finding_events_finding ON compliance_finding_events (finding_id, at);

CREATE TABLE compliance_outcomes (
    subject_type TEXT NOT NULL,
    subject_id   UUID NOT NULL,
    applicable   BIGINT NOT NULL,
    failing      BIGINT NOT NULL,
    excepted     BIGINT NOT NULL,
    PRIMARY KEY (subject_type, subject_id)
);

CREATE TABLE compliance_tallies (
    check_id       TEXT PRIMARY KEY,
    pass           BIGINT NOT NULL,
    fail           BIGINT NOT NULL,
    excepted       BIGINT NOT NULL,
    not_applicable BIGINT NOT NULL
);

CREATE TABLE compliance_snapshots (
    check_id       TEXT NOT NULL,
    day            DATE NOT NULL,
    pass           BIGINT NOT NULL,
    fail           BIGINT NOT NULL,
    excepted       BIGINT NOT NULL,
    not_applicable BIGINT NOT NULL,
    audit_seq      BIGINT NOT NULL,
    audit_hash     TEXT NOT NULL,
    computed_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (check_id, day)
);
CREATE INDEX compliance_snapshots_day ON compliance_snapshots (day);

CREATE TABLE compliance_state (
    id          BIGINT PRIMARY KEY CHECK (id = 1),
    follow_seq  BIGINT NOT NULL,
    full_day    DATE,
    layout      TEXT NOT NULL,
    computed_at TIMESTAMPTZ,
    audit_seq   BIGINT NOT NULL,
    audit_hash  TEXT NOT NULL
);
