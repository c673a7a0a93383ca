DROP INDEX communes_population_idx;
DROP TABLE performances;
DROP TABLE tours;
DROP TABLE production_disciplines;
DROP TABLE productions;
