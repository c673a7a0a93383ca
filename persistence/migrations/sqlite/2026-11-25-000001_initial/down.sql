DROP TABLE idempotency_keys;
DROP TABLE structure_disciplines;
DROP TABLE structures;
DROP TABLE reference_datasets;
DROP TABLE communes;
DROP TABLE departments;
DROP TABLE regions;
