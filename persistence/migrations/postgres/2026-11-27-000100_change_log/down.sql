DROP TABLE change_structures;
DROP TABLE changes;
DROP SEQUENCE changes_seq;
