ALTER TABLE dossiers DROP COLUMN listed_version;
ALTER TABLE dossiers DROP COLUMN listed_format;
ALTER TABLE dossiers DROP COLUMN listed;
