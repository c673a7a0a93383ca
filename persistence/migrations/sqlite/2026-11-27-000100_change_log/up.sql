-- The change log: every create, update and delete a follower of /v1/changes may see,
-- numbered in commit order (see persistence::changes for how the numbers are taken).
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    action TEXT NOT NULL,
    version BIGINT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT,
    occurred_at TIMESTAMP NOT NULL,
    -- The object after the change as the API shows it in full (JSON); NULL when deleted
    snapshot TEXT,
    -- Whether the object was public at this version, and at any earlier one
    is_public BOOLEAN NOT NULL,
    was_public BOOLEAN NOT NULL
);

CREATE INDEX changes_object_idx ON changes (object_type, object_id, seq);

-- The structures a change concerns (a performance: its company and its venue), for
-- telling who may see it; concerned_now is false for those only an earlier version
-- concerned.
CREATE TABLE change_structures (
    seq BIGINT NOT NULL REFERENCES changes (seq),
    structure_id TEXT NOT NULL,
    concerned_now BOOLEAN NOT NULL,
    PRIMARY KEY (seq, structure_id)
);

CREATE INDEX change_structures_structure_idx ON change_structures (structure_id, seq);
