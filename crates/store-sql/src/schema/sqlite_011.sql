-- An approved policy version's renderings (SPEC §7), made once at approval and kept as
-- bytes: every later download is these bytes, whatever the renderer becomes.
CREATE TABLE policy_renderings (
    policy_id  BLOB NOT NULL REFERENCES policies (id),
    format     TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    body       BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (policy_id, format)
);
CREATE TRIGGER policy_renderings_never_change BEFORE UPDATE ON policy_renderings
BEGIN
    SELECT RAISE(ABORT, 'an approved policy rendering never changes');
END;
CREATE TRIGGER policy_renderings_never_go BEFORE DELETE ON policy_renderings
BEGIN
    SELECT RAISE(ABORT, 'an approved policy rendering is never removed');
END;
