-- One server, a database and a role each for Synapse and Verity. Synapse needs the C collation.
-- The roles' password is the server's (POSTGRES_PASSWORD): change them with ALTER ROLE if you
-- want them apart.
\set pw `echo "$POSTGRES_PASSWORD"`
CREATE ROLE synapse LOGIN PASSWORD :'pw';
CREATE ROLE verity LOGIN PASSWORD :'pw';
CREATE DATABASE synapse OWNER synapse ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
CREATE DATABASE verity OWNER verity;
