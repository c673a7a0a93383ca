DROP INDEX dossiers_awarded_idx;
