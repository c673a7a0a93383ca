-- Grants: programmes (dispositifs d'aide), whose rules the domain evaluates, and the
-- calls (appels à candidatures) that open them for a while.

CREATE TABLE programmes (
    id TEXT PRIMARY KEY,
    -- DIFF-PROX: the first part of its dossiers' references
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    kind TEXT NOT NULL,
    published BOOLEAN NOT NULL,
    -- JSON: domain::grants::RulesInput, checked by the domain when read back
    rules TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);

CREATE INDEX programmes_published_idx ON programmes (published, id);

CREATE TABLE calls (
    id TEXT PRIMARY KEY,
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    title TEXT NOT NULL,
    -- UTC instants of the Europe/Paris wall-clock times staff gave
    opens_at TIMESTAMP NOT NULL,
    closes_at TIMESTAMP NOT NULL,
    committee_date DATE,
    envelope_cents BIGINT NOT NULL,
    -- the sum awarded to its approved dossiers, never above envelope_cents
    awarded_cents BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL,
    CHECK (awarded_cents >= 0 AND awarded_cents <= envelope_cents)
);

CREATE INDEX calls_programme_idx ON calls (programme_id, id);
