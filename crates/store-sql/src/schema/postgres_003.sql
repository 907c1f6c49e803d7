-- Sorted asset lists: by name (in byte order, as SQLite sorts), and by next review, each
-- with the keyset tie-breaker.
CREATE INDEX assets_name ON assets (name COLLATE "C", seq);
DROP INDEX assets_next_review;
CREATE INDEX assets_next_review ON assets (next_review_at, seq);
