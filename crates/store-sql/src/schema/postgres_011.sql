-- An approved policy version's renderings (SPEC §7), made once at approval and kept as
-- bytes: every later download is these bytes, whatever the renderer becomes.
CREATE TABLE policy_renderings (
    policy_id  UUID NOT NULL REFERENCES policies (id),
    format     TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    body       BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (policy_id, format)
);
CREATE FUNCTION policy_renderings_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'an approved policy rendering never changes';
END;
$$;
CREATE TRIGGER policy_renderings_never_change BEFORE UPDATE OR DELETE ON policy_renderings
    FOR EACH ROW EXECUTE FUNCTION policy_renderings_immutable();
