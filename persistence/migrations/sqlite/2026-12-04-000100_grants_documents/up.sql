-- Grants: the documents (pièces justificatives) attached to dossiers. The content is
-- in the object store under `storage_key` (made by the server: `dossiers/{dossier}/{id}`),
-- written before its row: a row never points at nothing, and an object without a live
-- row is swept. A removed document keeps its row (`deleted_at`) for the history.

CREATE TABLE dossier_documents (
    id TEXT PRIMARY KEY,
    dossier_id TEXT NOT NULL REFERENCES dossiers (id),
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    format TEXT NOT NULL,
    size_bytes BIGINT NOT NULL CHECK (size_bytes >= 0),
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL UNIQUE,
    -- `account` or `client`, and its id
    uploaded_by_kind TEXT NOT NULL,
    uploaded_by_id TEXT,
    uploaded_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);

CREATE INDEX dossier_documents_dossier_idx ON dossier_documents (dossier_id, id);
