DROP TABLE dossiers;
DROP TABLE dossier_counters;
