DROP TABLE dossier_events;
