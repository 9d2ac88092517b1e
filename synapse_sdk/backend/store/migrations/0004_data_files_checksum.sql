-- Finding stored files by checksum (de-duplication before an upload) reads only the matches
-- of one storage, not every file of it.
CREATE INDEX data_files_storage_checksum ON data_files (storage, checksum);
