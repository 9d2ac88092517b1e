-- Published plugin releases; (code, version) is immutable once written.
CREATE TABLE plugin_releases (
    code            TEXT NOT NULL,
    version         TEXT NOT NULL,
    name            TEXT NOT NULL,
    category        TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    config          TEXT NOT NULL,
    checksum        TEXT NOT NULL,
    source_checksum TEXT NOT NULL,
    archive         TEXT NOT NULL,
    size            INTEGER NOT NULL,
    lock            TEXT NOT NULL DEFAULT '',
    created_at      REAL NOT NULL,
    PRIMARY KEY (code, version)
);
CREATE INDEX plugin_releases_created ON plugin_releases (created_at);
