-- Custodian schema v1 (SQLite). Ids are UUID v7 blobs; times are RFC 3339 text; dates YYYY-MM-DD.
-- Every list has a `seq` keyset key; every foreign key and list filter has an index.

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

CREATE TABLE classifications (
    key                  TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    rank                 INTEGER NOT NULL UNIQUE,
    description          TEXT,
    encryption_required  INTEGER NOT NULL,
    off_premises         TEXT NOT NULL,
    external_sharing     TEXT NOT NULL,
    label_required       INTEGER NOT NULL,
    disposal_method      TEXT NOT NULL,
    review_interval_days INTEGER NOT NULL,
    version              INTEGER NOT NULL,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);

CREATE TABLE parties (
    seq             INTEGER PRIMARY KEY,
    id              BLOB NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    name            TEXT NOT NULL,
    email           TEXT UNIQUE,
    employment_type TEXT,
    status          TEXT,
    start_date      TEXT,
    end_date        TEXT,
    manager_id      BLOB REFERENCES parties (id),
    holder_id       BLOB REFERENCES parties (id),
    custom          TEXT NOT NULL,
    version         INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX parties_kind ON parties (kind, seq);
CREATE INDEX parties_status ON parties (status, seq);
CREATE INDEX parties_manager ON parties (manager_id);
CREATE INDEX parties_holder ON parties (holder_id);
CREATE INDEX parties_name ON parties (name);

CREATE TABLE team_members (
    team_id   BLOB NOT NULL REFERENCES parties (id),
    person_id BLOB NOT NULL REFERENCES parties (id),
    position  INTEGER NOT NULL,
    PRIMARY KEY (team_id, person_id)
);
CREATE INDEX team_members_person ON team_members (person_id);

CREATE TABLE delegations (
    seq         INTEGER PRIMARY KEY,
    id          BLOB NOT NULL UNIQUE,
    owner_id    BLOB NOT NULL REFERENCES parties (id),
    delegate_id BLOB NOT NULL REFERENCES parties (id),
    task        TEXT NOT NULL,
    asset_id    BLOB REFERENCES assets (id),
    note        TEXT,
    created_at  TEXT NOT NULL,
    ended_at    TEXT,
    end_reason  TEXT
);
CREATE INDEX delegations_owner ON delegations (owner_id, seq);
CREATE INDEX delegations_delegate ON delegations (delegate_id, seq);
CREATE INDEX delegations_asset ON delegations (asset_id);

CREATE TABLE locations (
    seq         INTEGER PRIMARY KEY,
    id          BLOB NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    parent_id   BLOB REFERENCES locations (id),
    on_premises INTEGER NOT NULL,
    address     TEXT,
    custom      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX locations_parent ON locations (parent_id);

CREATE TABLE custom_fields (
    seq         INTEGER PRIMARY KEY,
    id          BLOB NOT NULL UNIQUE,
    entity_type TEXT NOT NULL,
    key         TEXT NOT NULL,
    label       TEXT NOT NULL,
    field_type  TEXT NOT NULL,
    choices     TEXT NOT NULL,
    required    INTEGER NOT NULL,
    asset_kinds TEXT NOT NULL,
    description TEXT,
    version     INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (entity_type, key)
);

CREATE TABLE assets (
    seq              INTEGER PRIMARY KEY,
    id               BLOB NOT NULL UNIQUE,
    asset_number     TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    name             TEXT NOT NULL,
    description      TEXT,
    owner_id         BLOB NOT NULL REFERENCES parties (id),
    importance       TEXT NOT NULL,
    classification   TEXT NOT NULL REFERENCES classifications (key),
    status           TEXT NOT NULL,
    location_id      BLOB REFERENCES locations (id),
    tags             TEXT NOT NULL,
    custom           TEXT NOT NULL,
    external_ids     TEXT NOT NULL,
    last_reviewed_at TEXT,
    last_reviewed_by BLOB REFERENCES parties (id),
    next_review_at   TEXT,
    serial_number    TEXT,
    attrs            TEXT NOT NULL,
    search_text      TEXT NOT NULL,
    version          INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
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
    asset_id BLOB NOT NULL REFERENCES assets (id),
    seq      INTEGER NOT NULL,
    PRIMARY KEY (tag, seq)
);
CREATE INDEX asset_tags_asset ON asset_tags (asset_id);

CREATE TABLE asset_external_ids (
    system   TEXT NOT NULL,
    value    TEXT NOT NULL,
    asset_id BLOB NOT NULL REFERENCES assets (id),
    PRIMARY KEY (system, value)
);
CREATE INDEX asset_external_ids_asset ON asset_external_ids (asset_id);

-- Text search over the words of number, name, description, serial, hostname, tags.
CREATE VIRTUAL TABLE assets_fts USING fts5 (search_text, content = 'assets', content_rowid = 'seq');
CREATE TRIGGER assets_fts_insert AFTER INSERT ON assets BEGIN
    INSERT INTO assets_fts (rowid, search_text) VALUES (new.seq, new.search_text);
END;
CREATE TRIGGER assets_fts_update AFTER UPDATE OF search_text ON assets BEGIN
    INSERT INTO assets_fts (assets_fts, rowid, search_text) VALUES ('delete', old.seq, old.search_text);
    INSERT INTO assets_fts (rowid, search_text) VALUES (new.seq, new.search_text);
END;
CREATE TRIGGER assets_fts_delete AFTER DELETE ON assets BEGIN
    INSERT INTO assets_fts (assets_fts, rowid, search_text) VALUES ('delete', old.seq, old.search_text);
END;

CREATE TABLE relations (
    seq        INTEGER PRIMARY KEY,
    id         BLOB NOT NULL UNIQUE,
    from_id    BLOB NOT NULL REFERENCES assets (id),
    to_id      BLOB NOT NULL REFERENCES assets (id),
    type       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (from_id, to_id, type)
);
CREATE INDEX relations_to ON relations (to_id);

CREATE TABLE disposals (
    asset_id        BLOB PRIMARY KEY REFERENCES assets (id),
    method          TEXT NOT NULL,
    performed_by    TEXT NOT NULL,
    performed_at    TEXT NOT NULL,
    certificate_ref TEXT,
    verified_by     TEXT,
    notes           TEXT
);

CREATE TABLE incidents (
    seq          INTEGER PRIMARY KEY,
    asset_id     BLOB NOT NULL REFERENCES assets (id),
    status       TEXT NOT NULL,
    reported_at  TEXT NOT NULL,
    incident_ref TEXT NOT NULL,
    notes        TEXT
);
CREATE INDEX incidents_asset ON incidents (asset_id);

-- The audit trail: append-only, hash-chained.
CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY,
    id          BLOB NOT NULL UNIQUE,
    occurred_at TEXT NOT NULL,
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
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN
    SELECT RAISE (ABORT, 'audit events are append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN
    SELECT RAISE (ABORT, 'audit events are append-only');
END;

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
