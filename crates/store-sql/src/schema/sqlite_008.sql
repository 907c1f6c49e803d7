-- A holder's own loss report stands without the incident's reference, which a manager adds
-- later: the column becomes optional (SQLite changes a column's constraint by rebuilding
-- the table).
CREATE TABLE incidents_new (
    seq          INTEGER PRIMARY KEY,
    asset_id     BLOB NOT NULL REFERENCES assets (id),
    status       TEXT NOT NULL,
    reported_at  TEXT NOT NULL,
    incident_ref TEXT,
    notes        TEXT
);
INSERT INTO incidents_new (seq, asset_id, status, reported_at, incident_ref, notes)
    SELECT seq, asset_id, status, reported_at, incident_ref, notes FROM incidents;
DROP TABLE incidents;
ALTER TABLE incidents_new RENAME TO incidents;
CREATE INDEX incidents_asset ON incidents (asset_id);
