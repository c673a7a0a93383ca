-- Grants: dossiers (dossiers de demande d'aide), and the counters that number their
-- references (DIFF-PROX-2027-0042) per programme and year.

CREATE TABLE dossier_counters (
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    year INTEGER NOT NULL,
    -- the last number handed out; a creation increments it in its own transaction,
    -- which locks the row until the commit (serializing concurrent creations)
    last_number BIGINT NOT NULL,
    PRIMARY KEY (programme_id, year)
);

CREATE TABLE dossiers (
    id TEXT PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    call_id TEXT NOT NULL REFERENCES calls (id),
    -- the call's programme, copied: calls never move
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    applicant_id TEXT NOT NULL REFERENCES structures (id),
    status TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT,
    -- JSON array of performance ids
    performance_ids TEXT NOT NULL,
    -- JSON object: the answers to the programme's questions
    answers TEXT NOT NULL,
    -- JSON: {"expenses": [...], "incomes": [...]} of {category, label, amount_cents}
    budget TEXT NOT NULL,
    awarded_cents BIGINT,
    submitted_at TIMESTAMP,
    decided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);

CREATE INDEX dossiers_applicant_idx ON dossiers (applicant_id, id);
CREATE INDEX dossiers_call_idx ON dossiers (call_id, id);
CREATE INDEX dossiers_status_idx ON dossiers (status, id);
