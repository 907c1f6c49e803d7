-- Return of assets and attestation: offboarding (leaver) and handover (mover) cases with
-- the items they settle; attestation campaigns with the owners they ask.

CREATE TABLE offboardings (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             UUID NOT NULL UNIQUE,
    person_id      UUID NOT NULL REFERENCES parties (id),
    kind           TEXT NOT NULL,
    reason         TEXT NOT NULL,
    from_party_id  UUID REFERENCES parties (id),
    end_date       DATE,
    successor_id   UUID REFERENCES parties (id),
    status         TEXT NOT NULL,
    opened_by      UUID REFERENCES parties (id),
    closed_at      TIMESTAMPTZ,
    closed_by      UUID REFERENCES parties (id),
    notes          TEXT,
    version        BIGINT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX offboardings_person ON offboardings (person_id, seq);
CREATE INDEX offboardings_status ON offboardings (status, seq);
CREATE INDEX offboardings_from_party ON offboardings (from_party_id);
CREATE INDEX offboardings_successor ON offboardings (successor_id);
CREATE INDEX offboardings_opened_by ON offboardings (opened_by);
CREATE INDEX offboardings_closed_by ON offboardings (closed_by);

CREATE TABLE offboarding_items (
    id             UUID NOT NULL PRIMARY KEY,
    offboarding_id UUID NOT NULL REFERENCES offboardings (id),
    position       INTEGER NOT NULL,
    kind           TEXT NOT NULL,
    asset_id       UUID REFERENCES assets (id),
    assignment_id  UUID REFERENCES assignments (id),
    delegation_id  UUID REFERENCES delegations (id),
    title          TEXT NOT NULL,
    status         TEXT NOT NULL,
    successor_id   UUID REFERENCES parties (id),
    settled_at     TIMESTAMPTZ,
    settled_by     UUID REFERENCES parties (id),
    evidence       TEXT,
    UNIQUE (offboarding_id, position)
);
CREATE INDEX offboarding_items_asset ON offboarding_items (asset_id);
CREATE INDEX offboarding_items_assignment ON offboarding_items (assignment_id);
CREATE INDEX offboarding_items_delegation ON offboarding_items (delegation_id);
CREATE INDEX offboarding_items_successor ON offboarding_items (successor_id);
CREATE INDEX offboarding_items_settled_by ON offboarding_items (settled_by);

CREATE TABLE attestations (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         UUID NOT NULL UNIQUE,
    title      TEXT NOT NULL,
    due_date   DATE NOT NULL,
    status     TEXT NOT NULL,
    opened_by  UUID REFERENCES parties (id),
    closed_at  TIMESTAMPTZ,
    closed_by  UUID REFERENCES parties (id),
    version    BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX attestations_status ON attestations (status, seq);
CREATE INDEX attestations_opened_by ON attestations (opened_by);
CREATE INDEX attestations_closed_by ON attestations (closed_by);

CREATE TABLE attestation_owners (
    attestation_id     UUID NOT NULL REFERENCES attestations (id),
    owner_id           UUID NOT NULL REFERENCES parties (id),
    position           INTEGER NOT NULL,
    asset_count        BIGINT NOT NULL,
    status             TEXT NOT NULL,
    responded_at       TIMESTAMPTZ,
    responded_by       UUID REFERENCES parties (id),
    note               TEXT,
    disputed_asset_ids JSONB NOT NULL,
    PRIMARY KEY (attestation_id, owner_id)
);
CREATE INDEX attestation_owners_owner ON attestation_owners (owner_id);
CREATE INDEX attestation_owners_responded_by ON attestation_owners (responded_by);
