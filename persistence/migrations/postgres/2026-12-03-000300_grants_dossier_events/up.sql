-- Grants: a dossier's history, one row per transition (submit, approve…): who, when,
-- why, from which state to which, and the amount an approval awarded.

CREATE TABLE dossier_events (
    id TEXT PRIMARY KEY,
    dossier_id TEXT NOT NULL REFERENCES dossiers (id),
    action TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    -- `account` or `client`, and its id
    actor_kind TEXT NOT NULL,
    actor_id TEXT,
    reason TEXT,
    awarded_cents BIGINT,
    occurred_at TIMESTAMP NOT NULL
);

CREATE INDEX dossier_events_dossier_idx ON dossier_events (dossier_id, id);
