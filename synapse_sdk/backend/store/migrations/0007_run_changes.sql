-- Watching runs: a store-wide change number and keyset paging of the runs list.
-- Every write to a run sets its rev to the store's highest rev + 1, so "what changed since N"
-- is one index range (the runs list's event stream) and "did this run change" one key lookup.
ALTER TABLE runs ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN created_rev INTEGER NOT NULL DEFAULT 0;
CREATE INDEX runs_rev ON runs (rev);
-- Newest first, then by id: the listing's order and its cursor, with or without a filter.
DROP INDEX IF EXISTS runs_created;
DROP INDEX IF EXISTS runs_status;
CREATE INDEX runs_created_id ON runs (created_at, id);
CREATE INDEX runs_status_created ON runs (status, created_at, id);
CREATE INDEX runs_plugin_created ON runs (plugin_code, created_at, id);
CREATE INDEX runs_action_created ON runs (action, created_at, id);
-- A run's metrics after a sequence number, across its categories (the event stream's reads).
CREATE INDEX run_metrics_seq ON run_metrics (run_id, seq);
