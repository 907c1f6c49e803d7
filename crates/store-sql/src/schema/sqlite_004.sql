-- Policy workflows: policy versions and their acknowledgement, custody and software seats,
-- policy exceptions.

CREATE TABLE policies (
    seq            INTEGER PRIMARY KEY,
    id             BLOB NOT NULL UNIQUE,
    document       TEXT NOT NULL,
    number         TEXT NOT NULL,
    title          TEXT NOT NULL,
    body           TEXT NOT NULL,
    effective_date TEXT NOT NULL,
    material       INTEGER NOT NULL,
    change_summary TEXT,
    author_id      BLOB REFERENCES parties (id),
    status         TEXT NOT NULL,
    approved_by    BLOB REFERENCES parties (id),
    approved_at    TEXT,
    next_review_at TEXT,
    version        INTEGER NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (document, number)
);
-- One version of each document is in force.
CREATE UNIQUE INDEX policies_in_force ON policies (document) WHERE status = 'approved';
CREATE INDEX policies_author ON policies (author_id);
CREATE INDEX policies_approver ON policies (approved_by);

CREATE TABLE acknowledgements (
    seq             INTEGER PRIMARY KEY,
    id              BLOB NOT NULL UNIQUE,
    policy_id       BLOB NOT NULL REFERENCES policies (id),
    person_id       BLOB NOT NULL REFERENCES parties (id),
    acknowledged_at TEXT NOT NULL,
    source          TEXT NOT NULL,
    note            TEXT,
    created_at      TEXT NOT NULL,
    UNIQUE (person_id, policy_id)
);
CREATE INDEX acknowledgements_policy ON acknowledgements (policy_id, person_id);

CREATE TABLE exceptions (
    seq                   INTEGER PRIMARY KEY,
    id                    BLOB NOT NULL UNIQUE,
    rule                  TEXT NOT NULL,
    justification         TEXT NOT NULL,
    compensating_controls TEXT NOT NULL,
    requester_id          BLOB REFERENCES parties (id),
    approver_id           BLOB REFERENCES parties (id),
    decided_at            TEXT,
    decision_notes        TEXT,
    expires_at            TEXT NOT NULL,
    status                TEXT NOT NULL,
    version               INTEGER NOT NULL,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);
CREATE INDEX exceptions_requester ON exceptions (requester_id);
CREATE INDEX exceptions_approver ON exceptions (approver_id);
CREATE INDEX exceptions_status ON exceptions (status, seq);

CREATE TABLE exception_assets (
    exception_id BLOB NOT NULL REFERENCES exceptions (id),
    asset_id     BLOB NOT NULL REFERENCES assets (id),
    position     INTEGER NOT NULL,
    PRIMARY KEY (exception_id, asset_id)
);
CREATE INDEX exception_assets_asset ON exception_assets (asset_id);

CREATE TABLE assignments (
    seq                INTEGER PRIMARY KEY,
    id                 BLOB NOT NULL UNIQUE,
    asset_id           BLOB NOT NULL REFERENCES assets (id),
    kind               TEXT NOT NULL,
    person_id          BLOB REFERENCES parties (id),
    host_id            BLOB REFERENCES assets (id),
    issued_at          TEXT NOT NULL,
    issued_by          BLOB REFERENCES parties (id),
    expected_return_at TEXT,
    off_premises       INTEGER NOT NULL,
    location_id        BLOB REFERENCES locations (id),
    approved_by        BLOB REFERENCES parties (id),
    exception_id       BLOB REFERENCES exceptions (id),
    policy_id          BLOB REFERENCES policies (id),
    warnings           TEXT NOT NULL,
    notes              TEXT,
    returned_at        TEXT,
    received_by        BLOB REFERENCES parties (id),
    condition          TEXT,
    outcome            TEXT,
    version            INTEGER NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
-- One holder at a time for a device; a licence has many seats.
CREATE UNIQUE INDEX assignments_one_holder ON assignments (asset_id)
    WHERE kind = 'custody' AND returned_at IS NULL;
CREATE INDEX assignments_asset ON assignments (asset_id, seq);
CREATE INDEX assignments_person ON assignments (person_id, seq);
CREATE INDEX assignments_host ON assignments (host_id, seq);
CREATE INDEX assignments_open_off_premises ON assignments (seq)
    WHERE returned_at IS NULL AND off_premises = 1;
CREATE INDEX assignments_issued_by ON assignments (issued_by);
CREATE INDEX assignments_location ON assignments (location_id);
CREATE INDEX assignments_approved_by ON assignments (approved_by);
CREATE INDEX assignments_exception ON assignments (exception_id);
CREATE INDEX assignments_policy ON assignments (policy_id);
CREATE INDEX assignments_received_by ON assignments (received_by);
