-- Grants, instruction: the criteria reviewers score a programme's dossiers against,
-- the messages between an applicant and the agency, the agency's private notes, and
-- the reviews (avis) of committee reviewers.

-- JSON array of domain::grants::ReviewCriterion: existing programmes have none
ALTER TABLE programmes ADD COLUMN review_criteria TEXT NOT NULL DEFAULT '[]';

CREATE TABLE dossier_messages (
    id TEXT PRIMARY KEY,
    dossier_id TEXT NOT NULL REFERENCES dossiers (id),
    -- `applicant` or `staff`: the side that wrote it
    author_side TEXT NOT NULL,
    -- `account` or `client`, and its id
    author_kind TEXT NOT NULL,
    author_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX dossier_messages_dossier_idx ON dossier_messages (dossier_id, id);

-- Never shown to anyone but staff: a table of their own, so that no query of messages
-- can ever return one
CREATE TABLE dossier_notes (
    id TEXT PRIMARY KEY,
    dossier_id TEXT NOT NULL REFERENCES dossiers (id),
    author_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX dossier_notes_dossier_idx ON dossier_notes (dossier_id, id);

CREATE TABLE dossier_reviews (
    id TEXT PRIMARY KEY,
    dossier_id TEXT NOT NULL REFERENCES dossiers (id),
    reviewer_id TEXT NOT NULL REFERENCES accounts (id),
    -- `assigned`, `scored` or `conflicted`
    status TEXT NOT NULL,
    -- JSON object: criterion key -> score; `{}` until scored and once conflicted
    scores TEXT NOT NULL,
    comment TEXT,
    conflict_reason TEXT,
    assigned_by TEXT NOT NULL,
    assigned_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);

-- One review per reviewer and dossier, even when staff assign twice at once
CREATE UNIQUE INDEX dossier_reviews_reviewer_once ON dossier_reviews (dossier_id, reviewer_id);
-- A reviewer's dossier list
CREATE INDEX dossier_reviews_reviewer_idx ON dossier_reviews (reviewer_id, status, dossier_id);
