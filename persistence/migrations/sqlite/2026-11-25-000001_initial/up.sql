-- Reference geography (INSEE), reloadable: see reference_datasets.
CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE departments (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    region_code TEXT NOT NULL,
    population BIGINT
);

CREATE TABLE communes (
    insee_code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    department_code TEXT NOT NULL,
    region_code TEXT NOT NULL,
    -- space-separated, as INSEE publishes them
    postal_codes TEXT NOT NULL,
    population BIGINT
);

CREATE TABLE reference_datasets (
    name TEXT PRIMARY KEY,
    checksum TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    loaded_at TIMESTAMP NOT NULL
);

CREATE TABLE structures (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    -- lower case, accents folded: for search and for sorting by name
    name_folded TEXT NOT NULL,
    legal_name TEXT,
    siret TEXT,
    -- sorted, comma-framed (",circus,dance,"): read with the row; filters use structure_disciplines
    disciplines TEXT NOT NULL,
    -- JSON array of {category, number}
    licences TEXT NOT NULL,
    street TEXT,
    postal_code TEXT,
    city TEXT,
    commune_code TEXT,
    department_code TEXT,
    region_code TEXT,
    country TEXT,
    website TEXT,
    email TEXT,
    phone TEXT,
    archived_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);

CREATE UNIQUE INDEX structures_siret_key ON structures (siret);
CREATE INDEX structures_name_idx ON structures (name_folded, id);
CREATE INDEX structures_created_idx ON structures (created_at, id);
CREATE INDEX structures_kind_name_idx ON structures (kind, name_folded, id);
CREATE INDEX structures_department_name_idx ON structures (department_code, name_folded, id);
CREATE INDEX structures_region_name_idx ON structures (region_code, name_folded, id);

CREATE TABLE structure_disciplines (
    structure_id TEXT NOT NULL REFERENCES structures (id) ON DELETE CASCADE,
    discipline TEXT NOT NULL,
    PRIMARY KEY (structure_id, discipline)
);

CREATE INDEX structure_disciplines_discipline_idx ON structure_disciplines (discipline, structure_id);

-- Idempotency-Key records: the first response to a creating POST, replayed byte for byte.
CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_status INTEGER,
    response_headers TEXT,
    response_body BLOB,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
