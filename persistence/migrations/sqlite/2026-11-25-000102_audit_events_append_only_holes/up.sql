-- INSERT OR REPLACE deletes the row it replaces without firing delete triggers (unless
-- recursive_triggers is on): refuse any insert whose id is already there, before the
-- conflict resolution gets a chance to delete it.
CREATE TRIGGER audit_events_no_replace BEFORE INSERT ON audit_events
WHEN EXISTS (SELECT 1 FROM audit_events WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
