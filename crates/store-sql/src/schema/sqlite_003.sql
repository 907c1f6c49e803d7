-- Sorted asset lists: by name (each index entry ends with the rowid, seq, which breaks
-- ties); by next review the existing index already serves.
CREATE INDEX assets_name ON assets (name);
