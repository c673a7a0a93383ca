-- Grants, after the decision: the payment plan and the payments (versements), the
-- final report (bilan) and its history, what each approved dossier gives each of its
-- performances (what the yearly caps count), and the flags staff should look at.

-- The plan of an approved dossier's payments: the advance's share of the award (the
-- balance is the rest), so that the schedule always adds up to the award.
CREATE TABLE dossier_payment_plans (
    dossier_id TEXT PRIMARY KEY REFERENCES dossiers (id),
    advance_basis_points INTEGER NOT NULL CHECK (advance_basis_points BETWEEN 0 AND 10000),
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE dossier_payments (
    id TEXT PRIMARY KEY,
    dossier_id TEXT NOT NULL REFERENCES dossiers (id),
    -- the scheduled item it pays (`advance`, `balance`), when staff say which
    kind TEXT,
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    paid_on DATE NOT NULL,
    -- the transfer's reference (numéro de mandat)
    reference TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT,
    recorded_at TIMESTAMP NOT NULL
);

CREATE INDEX dossier_payments_dossier_idx ON dossier_payments (dossier_id, id);

CREATE TABLE final_reports (
    dossier_id TEXT PRIMARY KEY REFERENCES dossiers (id),
    status TEXT NOT NULL,
    -- JSON: [{performance_id, attendance}]
    held TEXT NOT NULL,
    -- JSON: the final budget, as a dossier's
    budget TEXT NOT NULL,
    comment TEXT,
    submitted_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE final_report_events (
    id TEXT PRIMARY KEY,
    dossier_id TEXT NOT NULL REFERENCES dossiers (id),
    action TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT,
    reason TEXT,
    occurred_at TIMESTAMP NOT NULL
);

CREATE INDEX final_report_events_dossier_idx ON final_report_events (dossier_id, id);

-- One row per funded performance of an approved (or closed) dossier, written by the
-- approval and removed by a reopening: the yearly caps sum them per presenter or
-- applicant and calendar year, within one programme.
CREATE TABLE dossier_awards (
    dossier_id TEXT NOT NULL REFERENCES dossiers (id),
    performance_id TEXT NOT NULL,
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    applicant_id TEXT NOT NULL,
    -- the venue presenting it, when a structure
    presenter_id TEXT,
    year INTEGER NOT NULL,
    aid_cents BIGINT NOT NULL CHECK (aid_cents > 0),
    PRIMARY KEY (dossier_id, performance_id)
);

CREATE INDEX dossier_awards_presenter_idx ON dossier_awards (programme_id, presenter_id, year);
CREATE INDEX dossier_awards_applicant_idx ON dossier_awards (programme_id, applicant_id, year);

-- What staff should look at on a dossier: a funded performance cancelled or deleted.
CREATE TABLE dossier_attention (
    id TEXT PRIMARY KEY,
    dossier_id TEXT NOT NULL REFERENCES dossiers (id),
    kind TEXT NOT NULL,
    performance_id TEXT NOT NULL,
    raised_at TIMESTAMP NOT NULL,
    cleared_at TIMESTAMP,
    cleared_by TEXT
);

CREATE INDEX dossier_attention_dossier_idx ON dossier_attention (dossier_id, id);
