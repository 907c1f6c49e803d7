-- Accounts, sign-in sessions, personal API tokens and service settings.

CREATE TABLE users (
    seq              INTEGER PRIMARY KEY,
    id               BLOB NOT NULL UNIQUE,
    email            TEXT NOT NULL UNIQUE,
    person_id        BLOB REFERENCES parties (id),
    role             TEXT NOT NULL,
    password_hash    TEXT,
    totp_secret      TEXT,
    totp_last_step   INTEGER,
    disabled         INTEGER NOT NULL,
    failed_logins    INTEGER NOT NULL,
    locked_until     TEXT,
    oidc_subject     TEXT UNIQUE,
    version          INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX users_person ON users (person_id);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      BLOB NOT NULL REFERENCES users (id),
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ip           TEXT,
    user_agent   TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    seq          INTEGER PRIMARY KEY,
    id           BLOB NOT NULL UNIQUE,
    user_id      BLOB NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    scope        TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id, seq);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
