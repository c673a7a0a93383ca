DROP TABLE change_structures;
DROP TABLE changes;
