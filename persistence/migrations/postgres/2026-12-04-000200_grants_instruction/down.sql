DROP TABLE dossier_reviews;
DROP TABLE dossier_notes;
DROP TABLE dossier_messages;
ALTER TABLE programmes DROP COLUMN review_criteria;
