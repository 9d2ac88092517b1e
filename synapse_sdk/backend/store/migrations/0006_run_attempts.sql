-- The tries of a job's action under one run (a retry policy tries it again after a crash).
ALTER TABLE runs ADD COLUMN attempts TEXT NOT NULL DEFAULT '[]';
