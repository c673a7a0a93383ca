DROP TABLE api_client_structures;
DROP TABLE api_clients;
