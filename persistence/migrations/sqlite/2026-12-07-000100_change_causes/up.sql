-- Why a change was made when its action alone does not say it (a payment recorded on a
-- dossier): the event webhooks name it by. NULL for a plain change.
ALTER TABLE changes ADD COLUMN cause TEXT;
