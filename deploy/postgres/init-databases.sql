-- Runs once, when the PostgreSQL container initialises an empty data volume
-- (docker-entrypoint-initdb.d). One database and one login role per service:
-- the services share nothing but Kafka. Development passwords only.
CREATE ROLE intake LOGIN PASSWORD 'intake';
CREATE DATABASE intake OWNER intake;

CREATE ROLE scheduling LOGIN PASSWORD 'scheduling';
CREATE DATABASE scheduling OWNER scheduling;

CREATE ROLE certificates LOGIN PASSWORD 'certificates';
CREATE DATABASE certificates OWNER certificates;

CREATE ROLE notifications LOGIN PASSWORD 'notifications';
CREATE DATABASE notifications OWNER notifications;
