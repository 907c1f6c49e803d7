-- Return of assets and attestation: offboarding (leaver) and handover (mover) cases with
-- the items they settle; attestation campaigns with the owners they ask.

CREATE TABLE offboardings (
    seq            INTEGER PRIMARY KEY,
    id             BLOB NOT NULL UNIQUE,
    person_id      BLOB NOT NULL REFERENCES parties (id),
    kind           TEXT NOT NULL,
    reason         TEXT NOT NULL,
    from_party_id  BLOB REFERENCES parties (id),
    end_date       TEXT,
    successor_id   BLOB REFERENCES parties (id),
    status         TEXT NOT NULL,
    opened_by      BLOB REFERENCES parties (id),
    closed_at      TEXT,
    closed_by      BLOB REFERENCES parties (id),
    notes          TEXT,
    version        INTEGER NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX offboardings_person ON offboardings (person_id, seq);
CREATE INDEX offboardings_status ON offboardings (status, seq);
CREATE INDEX offboardings_from_party ON offboardings (from_party_id);
CREATE INDEX offboardings_successor ON offboardings (successor_id);
CREATE INDEX offboardings_opened_by ON offboardings (opened_by);
CREATE INDEX offboardings_closed_by ON offboardings (closed_by);

CREATE TABLE offboarding_items (
    id             BLOB NOT NULL PRIMARY KEY,
    offboarding_id BLOB NOT NULL REFERENCES offboardings (id),
    position       INTEGER NOT NULL,
    kind           TEXT NOT NULL,
    asset_id       BLOB REFERENCES assets (id),
    assignment_id  BLOB REFERENCES assignments (id),
    delegation_id  BLOB REFERENCES delegations (id),
    title          TEXT NOT NULL,
    status         TEXT NOT NULL,
    successor_id   BLOB REFERENCES parties (id),
    settled_at     TEXT,
    settled_by     BLOB REFERENCES parties (id),
    evidence       TEXT,
    UNIQUE (offboarding_id, position)
);
CREATE INDEX offboarding_items_asset ON offboarding_items (asset_id);
CREATE INDEX offboarding_items_assignment ON offboarding_items (assignment_id);
CREATE INDEX offboarding_items_delegation ON offboarding_items (delegation_id);
CREATE INDEX offboarding_items_successor ON offboarding_items (successor_id);
CREATE INDEX offboarding_items_settled_by ON offboarding_items (settled_by);

CREATE TABLE attestations (
    seq        INTEGER PRIMARY KEY,
    id         BLOB NOT NULL UNIQUE,
    title      TEXT NOT NULL,
    due_date   TEXT NOT NULL,
    status     TEXT NOT NULL,
    opened_by  BLOB REFERENCES parties (id),
    closed_at  TEXT,
    closed_by  BLOB REFERENCES parties (id),
    version    INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX attestations_status ON attestations (status, seq);
CREATE INDEX attestations_opened_by ON attestations (opened_by);
CREATE INDEX attestations_closed_by ON attestations (closed_by);

CREATE TABLE attestation_owners (
    attestation_id     BLOB NOT NULL REFERENCES attestations (id),
    owner_id           BLOB NOT NULL REFERENCES parties (id),
    position           INTEGER NOT NULL,
    asset_count        INTEGER NOT NULL,
    status             TEXT NOT NULL,
    responded_at       TEXT,
    responded_by       BLOB REFERENCES parties (id),
    note               TEXT,
    disputed_asset_ids TEXT NOT NULL,
    PRIMARY KEY (attestation_id, owner_id)
);
CREATE INDEX attestation_owners_owner ON attestation_owners (owner_id);
CREATE INDEX attestation_owners_responded_by ON attestation_owners (responded_by);
