-- The awarded grants (SCDL export): the dossiers holding an award, in id order.
CREATE INDEX dossiers_awarded_idx ON dossiers (id) WHERE awarded_cents IS NOT NULL;
