-- Seals on the audit chain: keyed MACs under a key kept outside the database, so that
-- whoever can write the database cannot rewrite the chain and make it verify.
ALTER TABLE audit_head ADD COLUMN key_id TEXT;
ALTER TABLE audit_head ADD COLUMN seal TEXT;
-- One checkpoint per committed change: the seal of its last event.
CREATE TABLE audit_seals (
    seq    INTEGER PRIMARY KEY,
    key_id TEXT NOT NULL,
    seal   TEXT NOT NULL
);
