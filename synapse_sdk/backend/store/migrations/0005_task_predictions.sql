-- Models' pre-annotations of a task (auto_label, to_task), kept beside its own annotation.
ALTER TABLE tasks ADD COLUMN predictions TEXT NOT NULL DEFAULT '[]';
