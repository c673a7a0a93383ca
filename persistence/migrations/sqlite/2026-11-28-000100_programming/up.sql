-- Programming data: productions (spectacles), tours (tournées) and performances
-- (représentations). Every column a list filters on leads an index that ends with the
-- list's order, so that a filtered page is a range scan.

CREATE TABLE productions (
    id TEXT PRIMARY KEY,
    -- the owning structure (usually a company); never changes
    structure_id TEXT NOT NULL REFERENCES structures (id),
    title TEXT NOT NULL,
    -- sorted, comma-framed (",dance,theatre,"): read with the row; filters use production_disciplines
    disciplines TEXT NOT NULL,
    audience TEXT NOT NULL,
    minimum_age BIGINT,
    duration_minutes BIGINT NOT NULL,
    space TEXT NOT NULL,
    premiere_date DATE,
    team_size BIGINT,
    description TEXT,
    -- JSON array of URLs
    links TEXT NOT NULL,
    published BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);

CREATE INDEX productions_structure_idx ON productions (structure_id, id);
CREATE INDEX productions_updated_idx ON productions (updated_at, id);
CREATE INDEX productions_audience_idx ON productions (audience, id);
CREATE INDEX productions_published_idx ON productions (published, id);

CREATE TABLE production_disciplines (
    production_id TEXT NOT NULL REFERENCES productions (id) ON DELETE CASCADE,
    discipline TEXT NOT NULL,
    PRIMARY KEY (production_id, discipline)
);

CREATE INDEX production_disciplines_discipline_idx ON production_disciplines (discipline, production_id);

CREATE TABLE tours (
    id TEXT PRIMARY KEY,
    production_id TEXT NOT NULL REFERENCES productions (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);

CREATE INDEX tours_production_idx ON tours (production_id, id);

CREATE TABLE performances (
    id TEXT PRIMARY KEY,
    -- what is shown: a production, or an outside show given inline (show_*)
    production_id TEXT REFERENCES productions (id),
    -- the production's structure (the company side), copied: productions never move
    company_structure_id TEXT,
    show_title TEXT,
    show_company_name TEXT,
    show_discipline TEXT,
    -- where: a venue structure, or an inline place (place_*)
    venue_structure_id TEXT REFERENCES structures (id),
    place_name TEXT,
    place_city TEXT,
    -- derived at each write from the venue's address or the inline place
    commune_code TEXT,
    department_code TEXT,
    region_code TEXT,
    country_code TEXT,
    starts_at TIMESTAMP NOT NULL,
    time_zone TEXT NOT NULL,
    status TEXT NOT NULL,
    booking TEXT NOT NULL,
    fee_cents BIGINT,
    capacity BIGINT,
    attendance BIGINT,
    ticketing_url TEXT,
    -- sorted, comma-framed
    accessibility TEXT NOT NULL,
    tour_id TEXT REFERENCES tours (id),
    published BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);

CREATE INDEX performances_starts_idx ON performances (starts_at, id);
CREATE INDEX performances_updated_idx ON performances (updated_at, id);
CREATE INDEX performances_production_idx ON performances (production_id, starts_at, id);
CREATE INDEX performances_company_idx ON performances (company_structure_id, starts_at, id);
CREATE INDEX performances_venue_idx ON performances (venue_structure_id, starts_at, id);
CREATE INDEX performances_department_idx ON performances (department_code, starts_at, id);
CREATE INDEX performances_region_idx ON performances (region_code, starts_at, id);
CREATE INDEX performances_commune_idx ON performances (commune_code, starts_at, id);
CREATE INDEX performances_status_idx ON performances (status, starts_at, id);
CREATE INDEX performances_published_idx ON performances (published, starts_at, id);
CREATE INDEX performances_show_discipline_idx ON performances (show_discipline, starts_at, id);
CREATE INDEX performances_tour_idx ON performances (tour_id);

-- "Communes under 15,000 inhabitants": the communes of a size, then their performances.
CREATE INDEX communes_population_idx ON communes (population, insee_code);
