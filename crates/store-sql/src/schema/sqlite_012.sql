-- The audit trail read as a history (newest first), filtered by who acted or what was done.
CREATE INDEX audit_events_actor ON audit_events (actor, seq);
CREATE INDEX audit_events_action ON audit_events (action, seq);
