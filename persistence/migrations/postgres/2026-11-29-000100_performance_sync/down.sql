DROP TABLE performance_external_ids;
