-- Custodian schema v1 (PostgreSQL). Ids are UUID v7; times timestamptz; JSON jsonb (audit changes stay text: they are hashed).
-- Every list has a `seq` keyset key; every foreign key and list filter has an index.

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

CREATE TABLE classifications (
    key                  TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    rank                 BIGINT NOT NULL UNIQUE,
    description          TEXT,
    encryption_required  BOOLEAN NOT NULL,
    off_premises         TEXT NOT NULL,
    external_sharing     TEXT NOT NULL,
    label_required       BOOLEAN NOT NULL,
    disposal_method      TEXT NOT NULL,
    review_interval_days BIGINT NOT NULL,
    version              BIGINT NOT NULL,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL
);

CREATE TABLE parties (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              UUID NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    name            TEXT NOT NULL,
    email           TEXT UNIQUE,
    employment_type TEXT,
    status          TEXT,
    start_date      DATE,
    end_date        DATE,
    manager_id      UUID REFERENCES parties (id),
    holder_id       UUID REFERENCES parties (id),
    custom          JSONB NOT NULL,
    version         BIGINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX parties_kind ON parties (kind, seq);
CREATE INDEX parties_status ON parties (status, seq);
CREATE INDEX parties_manager ON parties (manager_id);
CREATE INDEX parties_holder ON parties (holder_id);
CREATE INDEX parties_name ON parties (name);

CREATE TABLE team_members (
    team_id   UUID NOT NULL REFERENCES parties (id),
    person_id UUID NOT NULL REFERENCES parties (id),
    position  BIGINT NOT NULL,
    PRIMARY KEY (team_id, person_id)
);
CREATE INDEX team_members_person ON team_members (person_id);

CREATE TABLE delegations (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          UUID NOT NULL UNIQUE,
    owner_id    UUID NOT NULL REFERENCES parties (id),
    delegate_id UUID NOT NULL REFERENCES parties (id),
    task        TEXT NOT NULL,
    asset_id    UUID,
    note        TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    ended_at    TIMESTAMPTZ,
    end_reason  TEXT
);
CREATE INDEX delegations_owner ON delegations (owner_id, seq);
CREATE INDEX delegations_delegate ON delegations (delegate_id, seq);
CREATE INDEX delegations_asset ON delegations (asset_id);

CREATE TABLE locations (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          UUID NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    parent_id   UUID REFERENCES locations (id),
    on_premises BOOLEAN NOT NULL,
    address     TEXT,
    custom      JSONB NOT NULL,
    version     BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX locations_parent ON locations (parent_id);

CREATE TABLE custom_fields (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          UUID NOT NULL UNIQUE,
    entity_type TEXT NOT NULL,
    key         TEXT NOT NULL,
    label       TEXT NOT NULL,
    field_type  TEXT NOT NULL,
    choices     JSONB NOT NULL,
    required    BOOLEAN NOT NULL,
    asset_kinds JSONB NOT NULL,
    description TEXT,
    version     BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (entity_type, key)
);

CREATE TABLE assets (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               UUID NOT NULL UNIQUE,
    asset_number     TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    name             TEXT NOT NULL,
    description      TEXT,
    owner_id         UUID NOT NULL REFERENCES parties (id),
    importance       TEXT NOT NULL,
    classification   TEXT NOT NULL REFERENCES classifications (key),
    status           TEXT NOT NULL,
    location_id      UUID REFERENCES locations (id),
    tags             JSONB NOT NULL,
    custom           JSONB NOT NULL,
    external_ids     JSONB NOT NULL,
    last_reviewed_at TIMESTAMPTZ,
    last_reviewed_by UUID REFERENCES parties (id),
    next_review_at   DATE,
    serial_number    TEXT,
    attrs            JSONB NOT NULL,
    search_text      TEXT NOT NULL,
    version          BIGINT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX assets_kind ON assets (kind, seq);
CREATE INDEX assets_status ON assets (status, seq);
CREATE INDEX assets_owner ON assets (owner_id, seq);
CREATE INDEX assets_classification ON assets (classification, seq);
CREATE INDEX assets_importance ON assets (importance, seq);
CREATE INDEX assets_location ON assets (location_id, seq);
CREATE INDEX assets_next_review ON assets (next_review_at);
CREATE INDEX assets_reviewer ON assets (last_reviewed_by);
CREATE INDEX assets_serial ON assets (serial_number);

CREATE TABLE asset_tags (
    tag      TEXT NOT NULL,
    asset_id UUID NOT NULL REFERENCES assets (id),
    seq      BIGINT NOT NULL,
    PRIMARY KEY (tag, seq)
);
CREATE INDEX asset_tags_asset ON asset_tags (asset_id);

CREATE TABLE asset_external_ids (
    system   TEXT NOT NULL,
    value    TEXT NOT NULL,
    asset_id UUID NOT NULL REFERENCES assets (id),
    PRIMARY KEY (system, value)
);
CREATE INDEX asset_external_ids_asset ON asset_external_ids (asset_id);

-- Text search over the words of number, name, description, serial, hostname, tags.
ALTER TABLE assets ADD COLUMN search_tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED;
CREATE INDEX assets_search ON assets USING GIN (search_tsv);

CREATE TABLE relations (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         UUID NOT NULL UNIQUE,
    from_id    UUID NOT NULL REFERENCES assets (id),
    to_id      UUID NOT NULL REFERENCES assets (id),
    type       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (from_id, to_id, type)
);
CREATE INDEX relations_to ON relations (to_id);

CREATE TABLE disposals (
    asset_id        UUID PRIMARY KEY REFERENCES assets (id),
    method          TEXT NOT NULL,
    performed_by    TEXT NOT NULL,
    performed_at    TIMESTAMPTZ NOT NULL,
    certificate_ref TEXT,
    verified_by     TEXT,
    notes           TEXT
);

CREATE TABLE incidents (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    asset_id     UUID NOT NULL REFERENCES assets (id),
    status       TEXT NOT NULL,
    reported_at  TIMESTAMPTZ NOT NULL,
    incident_ref TEXT NOT NULL,
    notes        TEXT
);
CREATE INDEX incidents_asset ON incidents (asset_id);

-- The audit trail: append-only, hash-chained.
CREATE TABLE audit_events (
    seq         BIGINT PRIMARY KEY,
    id          UUID NOT NULL UNIQUE,
    occurred_at TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    changes     TEXT NOT NULL,
    request_id  TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_events_entity ON audit_events (entity_type, entity_id, seq);
CREATE FUNCTION custodian_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION custodian_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION custodian_append_only();

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

ALTER TABLE delegations ADD FOREIGN KEY (asset_id) REFERENCES assets (id);
