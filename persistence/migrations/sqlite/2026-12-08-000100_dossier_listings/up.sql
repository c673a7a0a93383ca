-- How lists show a dossier: JSON the API renders from the dossier at each write and
-- keeps in its row, so that a list reads it as it is instead of parsing the row and
-- rendering it again (half of a list's CPU). `listed_format` names the rendering and
-- `listed_version` the dossier version it shows: a row whose rendering is of another
-- format or version (or NULL, as every row is here) is rendered from its row when read,
-- and again by the server's start-up.
ALTER TABLE dossiers ADD COLUMN listed TEXT;
ALTER TABLE dossiers ADD COLUMN listed_format INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN listed_version BIGINT NOT NULL DEFAULT 0;
