-- Stocktakes: a session at a location, the entries scanned or typed during it, and, once
-- it is closed, the assets that were expected and not found.

CREATE TABLE stocktakes (
    seq                  INTEGER PRIMARY KEY,
    id                   BLOB NOT NULL UNIQUE,
    location_id          BLOB NOT NULL REFERENCES locations (id),
    include_sublocations INTEGER NOT NULL,
    status               TEXT NOT NULL,
    started_at           TEXT NOT NULL,
    started_by           BLOB REFERENCES parties (id),
    closed_at            TEXT,
    closed_by            BLOB REFERENCES parties (id),
    notes                TEXT,
    version              INTEGER NOT NULL,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE INDEX stocktakes_location ON stocktakes (location_id, seq);
CREATE INDEX stocktakes_status ON stocktakes (status, seq);
CREATE INDEX stocktakes_started_by ON stocktakes (started_by);
CREATE INDEX stocktakes_closed_by ON stocktakes (closed_by);

CREATE TABLE stocktake_scans (
    seq                    INTEGER PRIMARY KEY,
    id                     BLOB NOT NULL UNIQUE,
    stocktake_id           BLOB NOT NULL REFERENCES stocktakes (id),
    asset_id               BLOB REFERENCES assets (id),
    entered                TEXT NOT NULL,
    scanned_at             TEXT NOT NULL,
    scanned_by             BLOB REFERENCES parties (id),
    result                 TEXT NOT NULL,
    registered_location_id BLOB REFERENCES locations (id)
);
-- An asset counts once per stocktake.
CREATE UNIQUE INDEX stocktake_scans_once ON stocktake_scans (stocktake_id, asset_id)
    WHERE asset_id IS NOT NULL;
CREATE INDEX stocktake_scans_result ON stocktake_scans (stocktake_id, result, seq);
CREATE INDEX stocktake_scans_asset ON stocktake_scans (asset_id);
CREATE INDEX stocktake_scans_scanned_by ON stocktake_scans (scanned_by);
CREATE INDEX stocktake_scans_location ON stocktake_scans (registered_location_id);

-- What was expected and not found, fixed when the stocktake closes.
CREATE TABLE stocktake_missing (
    stocktake_id BLOB NOT NULL REFERENCES stocktakes (id),
    asset_id     BLOB NOT NULL REFERENCES assets (id),
    asset_seq    INTEGER NOT NULL,
    PRIMARY KEY (stocktake_id, asset_seq)
);
CREATE INDEX stocktake_missing_asset ON stocktake_missing (asset_id);

-- Scanned or typed asset numbers match whatever their case.
CREATE INDEX assets_number_lower ON assets (lower(asset_number));
