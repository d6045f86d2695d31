-- Sydent 2.6.1's SQLite schema, as Sydent itself creates it, copied verbatim (statement by
-- statement) from the matrix-sydent 2.6.1 package on PyPI: first its version-0 schema files
-- (sydent/db/threepid_associations.sql, threepid_validation.sql, invite_tokens.sql, peers.sql,
-- licence headers removed), then the migrations of sydent/db/sqlitedb.py `_upgradeSchema`
-- (v0 -> v5), in order. The tests run the part up to a version (`-- version N` markers).

CREATE TABLE IF NOT EXISTS local_threepid_associations (
    id integer primary key,
    medium varchar(16) not null,
    address varchar(256) not null,
    mxid varchar(256) not null,
    ts integer not null,
    notBefore bigint not null,
    notAfter bigint not null
);

CREATE TABLE IF NOT EXISTS global_threepid_associations (
    id integer primary key,
    medium varchar(16) not null,
    address varchar(256) not null,
    mxid varchar(256) not null,
    ts integer not null,
    notBefore bigint not null,
    notAfter integer not null,
    originServer varchar(255) not null,
    originId integer not null,
    sgAssoc text not null
);
CREATE UNIQUE INDEX IF NOT EXISTS originServer_originId on global_threepid_associations (originServer, originId);

CREATE TABLE IF NOT EXISTS threepid_validation_sessions (id integer primary key, medium varchar(16) not null, address varchar(256) not null, clientSecret varchar(32) not null, validated int default 0, mtime bigint not null);
CREATE TABLE IF NOT EXISTS threepid_token_auths (id integer primary key, validationSession integer not null, token varchar(32) not null, sendAttemptNumber integer not null, foreign key (validationSession) references threepid_validations(id));

CREATE TABLE IF NOT EXISTS invite_tokens (
    id integer primary key,
    medium varchar(16) not null,
    address varchar(256) not null,
    room_id varchar(256) not null,
    sender varchar(256) not null,
    token varchar(256) not null,
    received_ts bigint, -- When the invite was received by us from the homeserver
    sent_ts bigint -- When the token was sent by us to the user
);
CREATE INDEX IF NOT EXISTS invite_token_medium_address on invite_tokens(medium, address);
CREATE INDEX IF NOT EXISTS invite_token_token on invite_tokens(token);

CREATE TABLE IF NOT EXISTS ephemeral_public_keys(
    id integer primary key,
    public_key varchar(256) not null,
    verify_count bigint default 0,
    persistence_ts bigint
);

CREATE UNIQUE INDEX IF NOT EXISTS ephemeral_public_keys_index on ephemeral_public_keys(public_key);

CREATE TABLE IF NOT EXISTS peers (id integer primary key, name varchar(255) not null, port integer default null, lastSentVersion integer, lastPokeSucceededAt integer, active integer not null default 0);
CREATE UNIQUE INDEX IF NOT EXISTS name on peers(name);

CREATE TABLE IF NOT EXISTS peer_pubkeys (id integer primary key, peername varchar(255) not null, alg varchar(16) not null, key text not null, foreign key (peername) references peers (name));
CREATE UNIQUE INDEX IF NOT EXISTS peername_alg on peer_pubkeys(peername, alg);

-- version 1
DROP INDEX IF EXISTS medium_address;
DROP INDEX IF EXISTS local_threepid_medium_address;
ALTER TABLE local_threepid_associations RENAME TO old_local_threepid_associations;
CREATE TABLE local_threepid_associations (id integer primary key autoincrement, medium varchar(16) not null, address varchar(256) not null, mxid varchar(256), ts integer, notBefore bigint, notAfter bigint);
INSERT INTO local_threepid_associations (medium, address, mxid, ts, notBefore, notAfter) SELECT medium, address, mxid, ts, notBefore, notAfter FROM old_local_threepid_associations;
CREATE UNIQUE INDEX local_threepid_medium_address on local_threepid_associations(medium, address);
DROP TABLE old_local_threepid_associations;
DROP INDEX IF EXISTS global_threepid_medium_address;
DROP INDEX IF EXISTS global_threepid_medium_lower_address;
DROP INDEX IF EXISTS global_threepid_originServer_originId;
DROP INDEX IF EXISTS medium_lower_address;
DROP INDEX IF EXISTS threepid_originServer_originId;
ALTER TABLE global_threepid_associations RENAME TO old_global_threepid_associations;
CREATE TABLE IF NOT EXISTS global_threepid_associations (id integer primary key autoincrement, medium varchar(16) not null, address varchar(256) not null, mxid varchar(256) not null, ts integer not null, notBefore bigint not null, notAfter integer not null, originServer varchar(255) not null, originId integer not null, sgAssoc text not null);
INSERT INTO global_threepid_associations (medium, address, mxid, ts, notBefore, notAfter, originServer, originId, sgAssoc) SELECT medium, address, mxid, ts, notBefore, notAfter, originServer, originId, sgAssoc FROM old_global_threepid_associations;
CREATE INDEX global_threepid_medium_address on global_threepid_associations (medium, address);
CREATE INDEX global_threepid_medium_lower_address on global_threepid_associations (medium, lower(address));
CREATE UNIQUE INDEX global_threepid_originServer_originId on global_threepid_associations (originServer, originId);
DROP TABLE old_global_threepid_associations;
PRAGMA user_version = 1;

-- version 2
CREATE INDEX threepid_validation_sessions_mtime ON threepid_validation_sessions(mtime);
PRAGMA user_version = 2;

-- version 3
ALTER TABLE local_threepid_associations ADD COLUMN lookup_hash VARCHAR(256);
ALTER TABLE global_threepid_associations ADD COLUMN lookup_hash VARCHAR(256);
CREATE INDEX IF NOT EXISTS lookup_hash_medium on global_threepid_associations (lookup_hash, medium);
CREATE TABLE IF NOT EXISTS hashing_metadata (id integer primary key, lookup_pepper varchar(256));
PRAGMA user_version = 3;

-- version 4
CREATE TABLE accounts(user_id TEXT NOT NULL PRIMARY KEY, created_ts BIGINT NOT NULL, consent_version TEXT);
CREATE TABLE tokens(token TEXT NOT NULL PRIMARY KEY, user_id TEXT NOT NULL);
CREATE TABLE accepted_terms_urls(user_id TEXT NOT NULL, url TEXT NOT NULL);
CREATE UNIQUE INDEX accepted_terms_urls_idx ON accepted_terms_urls (user_id, url);
PRAGMA user_version = 4;

-- version 5
DROP INDEX IF EXISTS lookup_hash_medium;
CREATE INDEX global_threepid_lookup_hash ON global_threepid_associations(lookup_hash);
PRAGMA user_version = 5;
