DROP TABLE calls;
DROP TABLE programmes;
