-- Foundation: clusters, organisations, users, sessions, API keys, chains, the core-enterprise library,
-- audit and idempotency. Flags are BIGINT 0/1 and instants are epoch milliseconds (UTC) on both backends.
CREATE TABLE cluster (
    id TEXT PRIMARY KEY,
    tier TEXT NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    verified BIGINT NOT NULL,
    position BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

CREATE TABLE organisation (
    id TEXT PRIMARY KEY,
    uscc TEXT NOT NULL UNIQUE,
    uscc_verified BIGINT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    size_class TEXT NOT NULL,
    sme BIGINT NOT NULL,
    region_code TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX organisation_kind ON organisation(kind, name);

CREATE TABLE uscc_exception (
    uscc TEXT PRIMARY KEY,
    note TEXT NOT NULL,
    created_by_user_id TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE app_user (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisation(id),
    login TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    roles TEXT NOT NULL,
    active BIGINT NOT NULL,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    first_failure_at_ms BIGINT,
    locked_until_ms BIGINT,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX app_user_org ON app_user(org_id, login);

CREATE TABLE session (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES app_user(id),
    csrf_token TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    last_seen_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);
CREATE INDEX session_by_user ON session(user_id);

CREATE TABLE api_key (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisation(id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_by_user_id TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    revoked_at_ms BIGINT,
    last_used_at_ms BIGINT
);
CREATE INDEX api_key_org ON api_key(org_id);

CREATE TABLE chain (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    cluster_id TEXT NOT NULL REFERENCES cluster(id),
    pilot BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE chain_member (
    chain_id TEXT NOT NULL REFERENCES chain(id),
    org_id TEXT NOT NULL REFERENCES organisation(id),
    role TEXT NOT NULL,
    -- The tier a supplier declares relative to the chain's core(s); trade data later derives the real one.
    tier BIGINT,
    joined_at_ms BIGINT NOT NULL,
    PRIMARY KEY (chain_id, org_id)
);
CREATE INDEX chain_member_org ON chain_member(org_id);

CREATE TABLE core_library_entry (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL UNIQUE REFERENCES organisation(id),
    cluster_id TEXT NOT NULL REFERENCES cluster(id),
    status TEXT NOT NULL,
    admission_date TEXT,
    reason TEXT NOT NULL,
    applied_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX core_library_entry_status ON core_library_entry(status);

CREATE TABLE core_library_event (
    id TEXT PRIMARY KEY,
    entry_id TEXT NOT NULL REFERENCES core_library_entry(id),
    seq BIGINT NOT NULL,
    -- NULL for the application itself, which is not a move.
    action TEXT,
    from_status TEXT,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL,
    actor_user_id TEXT,
    actor_org_id TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    UNIQUE (entry_id, seq)
);

CREATE TABLE audit_event (
    id TEXT PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    actor_org_id TEXT,
    actor_user_id TEXT,
    actor_api_key_id TEXT,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_event_org ON audit_event(actor_org_id, at_ms);

CREATE TABLE idempotency (
    org_id TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_digest TEXT NOT NULL,
    status BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (org_id, idem_key)
);
