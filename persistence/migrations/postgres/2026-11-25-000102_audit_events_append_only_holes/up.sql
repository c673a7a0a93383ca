-- TRUNCATE fires no row trigger: refuse it with a statement-level one. (The SQLite tree's
-- migration of this name closes that backend's own hole, INSERT OR REPLACE.)
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
