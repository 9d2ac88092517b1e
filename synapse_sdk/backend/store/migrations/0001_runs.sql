-- Runs and everything an action reports while it runs.
CREATE TABLE runs (
    id             TEXT PRIMARY KEY,
    plugin_code    TEXT,
    plugin_version TEXT,
    category       TEXT,
    action         TEXT NOT NULL,
    method         TEXT,
    params         TEXT NOT NULL DEFAULT '{}',
    status         TEXT NOT NULL,
    is_job         INTEGER NOT NULL DEFAULT 0,
    created_at     REAL NOT NULL,
    started_at     REAL,
    finished_at    REAL,
    heartbeat_at   REAL,
    host           TEXT,
    pid            INTEGER,
    pid_started    TEXT,
    supervisor_pid INTEGER,
    stop_requested INTEGER NOT NULL DEFAULT 0,
    result         TEXT,
    error          TEXT,
    lost_events    INTEGER NOT NULL DEFAULT 0,
    extra          TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX runs_status ON runs (status);
CREATE INDEX runs_created ON runs (created_at);

CREATE TABLE run_logs (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id  TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    ts      REAL NOT NULL,
    level   TEXT NOT NULL,
    message TEXT,
    event   TEXT,
    data    TEXT
);
CREATE INDEX run_logs_run ON run_logs (run_id, seq);

CREATE TABLE run_progress (
    run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    category   TEXT NOT NULL,
    current    REAL NOT NULL,
    total      REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (run_id, category)
);

CREATE TABLE run_metrics (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id   TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    category TEXT NOT NULL,
    ts       REAL NOT NULL,
    data     TEXT NOT NULL
);
CREATE INDEX run_metrics_run ON run_metrics (run_id, category, seq);
