-- Data authorisation (M13): an owner of trade data lets one bank use named categories of it (a
-- comma-joined set of codes), for a purpose, through valid_until (inclusive). The stored state is granted
-- or revoked; expired is derived from the date. Revocation is a conditional update, so it happens once.
CREATE TABLE consent (
    id TEXT PRIMARY KEY,
    owner_org_id TEXT NOT NULL REFERENCES organisation(id),
    bank_org_id TEXT NOT NULL REFERENCES organisation(id),
    categories TEXT NOT NULL,
    purpose TEXT NOT NULL,
    application_id TEXT,
    valid_until TEXT NOT NULL,
    state TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at_ms INTEGER NOT NULL,
    revoked_by TEXT,
    revoked_at_ms INTEGER,
    CHECK (state IN ('granted', 'revoked')),
    CHECK (owner_org_id <> bank_org_id)
);
CREATE INDEX consent_owner ON consent(owner_org_id, granted_at_ms);
CREATE INDEX consent_bank ON consent(bank_org_id, granted_at_ms);
CREATE INDEX consent_live ON consent(owner_org_id, bank_org_id, state, valid_until);

-- Every read a bank made through a consent: what, by whom, when and how many items; the owner reads this
-- trail (the same read is also in the audit trail).
CREATE TABLE consent_read (
    id TEXT PRIMARY KEY,
    consent_id TEXT NOT NULL REFERENCES consent(id),
    category TEXT NOT NULL,
    reader_org_id TEXT NOT NULL REFERENCES organisation(id),
    reader_user_id TEXT,
    reader TEXT NOT NULL,
    items INTEGER NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX consent_read_consent ON consent_read(consent_id, at_ms);
