-- Policy workflows: policy versions and their acknowledgement, custody and software seats,
-- policy exceptions.

CREATE TABLE policies (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             UUID NOT NULL UNIQUE,
    document       TEXT NOT NULL,
    number         TEXT NOT NULL,
    title          TEXT NOT NULL,
    body           TEXT NOT NULL,
    effective_date DATE NOT NULL,
    material       BOOLEAN NOT NULL,
    change_summary TEXT,
    author_id      UUID REFERENCES parties (id),
    status         TEXT NOT NULL,
    approved_by    UUID REFERENCES parties (id),
    approved_at    TIMESTAMPTZ,
    next_review_at DATE,
    version        BIGINT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (document, number)
);
-- One version of each document is in force.
CREATE UNIQUE INDEX policies_in_force ON policies (document) WHERE status = 'approved';
CREATE INDEX policies_author ON policies (author_id);
CREATE INDEX policies_approver ON policies (approved_by);

CREATE TABLE acknowledgements (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              UUID NOT NULL UNIQUE,
    policy_id       UUID NOT NULL REFERENCES policies (id),
    person_id       UUID NOT NULL REFERENCES parties (id),
    acknowledged_at TIMESTAMPTZ NOT NULL,
    source          TEXT NOT NULL,
    note            TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (person_id, policy_id)
);
CREATE INDEX acknowledgements_policy ON acknowledgements (policy_id, person_id);

CREATE TABLE exceptions (
    seq                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                    UUID NOT NULL UNIQUE,
    rule                  TEXT NOT NULL,
    justification         TEXT NOT NULL,
    compensating_controls TEXT NOT NULL,
    requester_id          UUID REFERENCES parties (id),
    approver_id           UUID REFERENCES parties (id),
    decided_at            TIMESTAMPTZ,
    decision_notes        TEXT,
    expires_at            DATE NOT NULL,
    status                TEXT NOT NULL,
    version               BIGINT NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX exceptions_requester ON exceptions (requester_id);
CREATE INDEX exceptions_approver ON exceptions (approver_id);
CREATE INDEX exceptions_status ON exceptions (status, seq);

CREATE TABLE exception_assets (
    exception_id UUID NOT NULL REFERENCES exceptions (id),
    asset_id     UUID NOT NULL REFERENCES assets (id),
    position     INTEGER NOT NULL,
    PRIMARY KEY (exception_id, asset_id)
);
CREATE INDEX exception_assets_asset ON exception_assets (asset_id);

CREATE TABLE assignments (
    seq                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                 UUID NOT NULL UNIQUE,
    asset_id           UUID NOT NULL REFERENCES assets (id),
    kind               TEXT NOT NULL,
    person_id          UUID REFERENCES parties (id),
    host_id            UUID REFERENCES assets (id),
    issued_at          TIMESTAMPTZ NOT NULL,
    issued_by          UUID REFERENCES parties (id),
    expected_return_at DATE,
    off_premises       BOOLEAN NOT NULL,
    location_id        UUID REFERENCES locations (id),
    approved_by        UUID REFERENCES parties (id),
    exception_id       UUID REFERENCES exceptions (id),
    policy_id          UUID REFERENCES policies (id),
    warnings           JSONB NOT NULL,
    notes              TEXT,
    returned_at        TIMESTAMPTZ,
    received_by        UUID REFERENCES parties (id),
    condition          TEXT,
    outcome            TEXT,
    version            BIGINT NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
-- One holder at a time for a device; a licence has many seats.
CREATE UNIQUE INDEX assignments_one_holder ON assignments (asset_id)
    WHERE kind = 'custody' AND returned_at IS NULL;
CREATE INDEX assignments_asset ON assignments (asset_id, seq);
CREATE INDEX assignments_person ON assignments (person_id, seq);
CREATE INDEX assignments_host ON assignments (host_id, seq);
CREATE INDEX assignments_open_off_premises ON assignments (seq)
    WHERE returned_at IS NULL AND off_premises;
CREATE INDEX assignments_issued_by ON assignments (issued_by);
CREATE INDEX assignments_location ON assignments (location_id);
CREATE INDEX assignments_approved_by ON assignments (approved_by);
CREATE INDEX assignments_exception ON assignments (exception_id);
CREATE INDEX assignments_policy ON assignments (policy_id);
CREATE INDEX assignments_received_by ON assignments (received_by);
