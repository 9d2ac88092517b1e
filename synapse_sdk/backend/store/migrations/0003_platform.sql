-- The data platform: storages, data, projects, tasks, assignments, ground truth and models.
-- JSON columns hold TEXT written by the store; ids are integers, as on the reference platform.
CREATE TABLE storages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL UNIQUE,
    provider      TEXT NOT NULL,
    configuration TEXT NOT NULL DEFAULT '{}',
    is_default    INTEGER NOT NULL DEFAULT 0,
    created_at    REAL NOT NULL
);

CREATE TABLE data_collections (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    name                TEXT NOT NULL UNIQUE,
    description         TEXT NOT NULL DEFAULT '',
    file_specifications TEXT NOT NULL DEFAULT '[]',
    created_at          REAL NOT NULL
);

CREATE TABLE data_files (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    storage    INTEGER NOT NULL REFERENCES storages (id),
    path       TEXT NOT NULL,
    size       INTEGER NOT NULL,
    checksum   TEXT NOT NULL,
    mime_type  TEXT,
    name       TEXT NOT NULL DEFAULT '',
    meta       TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL,
    UNIQUE (storage, path)
);
CREATE INDEX data_files_checksum ON data_files (checksum);

CREATE TABLE data_units (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    data_collection INTEGER NOT NULL REFERENCES data_collections (id),
    files           TEXT NOT NULL DEFAULT '{}',
    meta            TEXT NOT NULL DEFAULT '{}',
    checksum        TEXT,
    created_at      REAL NOT NULL,
    UNIQUE (data_collection, checksum)
);

CREATE TABLE projects (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    title           TEXT NOT NULL UNIQUE,
    description     TEXT NOT NULL DEFAULT '',
    data_collection INTEGER REFERENCES data_collections (id),
    configuration   TEXT NOT NULL DEFAULT '{}',
    created_at      REAL NOT NULL
);

CREATE TABLE tasks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    project    INTEGER NOT NULL REFERENCES projects (id),
    data_unit  INTEGER REFERENCES data_units (id),
    status     TEXT NOT NULL DEFAULT 'pending',
    data       TEXT,
    tags       TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    UNIQUE (project, data_unit)
);
CREATE INDEX tasks_project_status ON tasks (project, status);

CREATE TABLE assignments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    project      INTEGER NOT NULL REFERENCES projects (id),
    task         INTEGER NOT NULL REFERENCES tasks (id),
    status       TEXT NOT NULL DEFAULT 'pending',
    annotator    TEXT,
    data         TEXT,
    started_at   REAL,
    submitted_at REAL,
    created_at   REAL NOT NULL
);
CREATE INDEX assignments_project_status ON assignments (project, status);
CREATE INDEX assignments_task ON assignments (task);

CREATE TABLE ground_truth_datasets (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    project     INTEGER REFERENCES projects (id),
    description TEXT NOT NULL DEFAULT '',
    created_at  REAL NOT NULL
);

CREATE TABLE ground_truth_dataset_versions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset    INTEGER NOT NULL REFERENCES ground_truth_datasets (id),
    version    TEXT NOT NULL,
    is_frozen  INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    UNIQUE (dataset, version)
);

CREATE TABLE ground_truth_events (
    id                           INTEGER PRIMARY KEY AUTOINCREMENT,
    ground_truth_dataset_version INTEGER NOT NULL REFERENCES ground_truth_dataset_versions (id),
    data_unit                    INTEGER REFERENCES data_units (id),
    data                         TEXT,
    split                        TEXT NOT NULL DEFAULT 'train',
    created_at                   REAL NOT NULL,
    UNIQUE (ground_truth_dataset_version, data_unit)
);
CREATE INDEX ground_truth_events_split ON ground_truth_events (ground_truth_dataset_version, split);

CREATE TABLE models (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    plugin        TEXT,
    run           TEXT REFERENCES runs (id) ON DELETE SET NULL,
    file          INTEGER REFERENCES data_files (id),
    checksum      TEXT,
    configuration TEXT NOT NULL DEFAULT '{}',
    metrics       TEXT NOT NULL DEFAULT '{}',
    created_at    REAL NOT NULL
);
CREATE INDEX models_name ON models (name);

-- Filtered listings walk these, not the whole table.
CREATE INDEX tasks_data_unit ON tasks (data_unit);
CREATE INDEX data_units_collection ON data_units (data_collection);
CREATE INDEX data_files_storage ON data_files (storage);
CREATE INDEX projects_collection ON projects (data_collection);
CREATE INDEX ground_truth_versions_dataset ON ground_truth_dataset_versions (dataset);

-- A frozen version is a snapshot: its events can no longer be added, changed or removed.
CREATE TRIGGER ground_truth_events_frozen_insert BEFORE INSERT ON ground_truth_events
WHEN (SELECT is_frozen FROM ground_truth_dataset_versions WHERE id = NEW.ground_truth_dataset_version) = 1
BEGIN SELECT RAISE(ABORT, 'frozen version'); END;
CREATE TRIGGER ground_truth_events_frozen_update BEFORE UPDATE ON ground_truth_events
WHEN (SELECT is_frozen FROM ground_truth_dataset_versions WHERE id = OLD.ground_truth_dataset_version) = 1
BEGIN SELECT RAISE(ABORT, 'frozen version'); END;
CREATE TRIGGER ground_truth_events_frozen_delete BEFORE DELETE ON ground_truth_events
WHEN (SELECT is_frozen FROM ground_truth_dataset_versions WHERE id = OLD.ground_truth_dataset_version) = 1
BEGIN SELECT RAISE(ABORT, 'frozen version'); END;
CREATE TRIGGER ground_truth_versions_frozen BEFORE UPDATE ON ground_truth_dataset_versions
WHEN OLD.is_frozen = 1
BEGIN SELECT RAISE(ABORT, 'frozen version'); END;
CREATE TRIGGER ground_truth_versions_frozen_delete BEFORE DELETE ON ground_truth_dataset_versions
WHEN OLD.is_frozen = 1
BEGIN SELECT RAISE(ABORT, 'frozen version'); END;
