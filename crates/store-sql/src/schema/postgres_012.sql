-- The audit trail read as a history (newest first), filtered by who acted or what was done;
-- in byte order, as the ranges of a user's tokens and of an action's prefix are read.
CREATE INDEX audit_events_actor ON audit_events (actor COLLATE "C", seq);
CREATE INDEX audit_events_action ON audit_events (action COLLATE "C", seq);
