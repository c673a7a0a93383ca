DROP TABLE dossier_documents;
