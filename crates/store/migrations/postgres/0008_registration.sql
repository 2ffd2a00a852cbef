-- Registration against double financing (M9, DOMAIN_FACTS A5). A registration claims a set of invoices
-- (a receivable's invoice numbers under its creditor) for one financing. Each claimed invoice has one
-- row in registration_claim whose primary key is the invoice itself, so two overlapping registrations
-- can never both commit: the database refuses the second, on SQLite and PostgreSQL alike, whatever the
-- timing. Releasing a registration deletes its claims and keeps the registration as history.
CREATE TABLE registration (
    id TEXT PRIMARY KEY,
    -- The reference shown to people and quoted in refusals, e.g. LR-REG-2026-000001.
    reference TEXT NOT NULL UNIQUE,
    -- SM3 over the canonical (debtor, creditor, sorted invoice numbers, amount, due date).
    fingerprint TEXT NOT NULL,
    creditor_org_id TEXT NOT NULL REFERENCES organisation(id),
    creditor_uscc TEXT NOT NULL,
    debtor_uscc TEXT NOT NULL,
    -- The bank (or factor) financing the receivable, when known.
    financier_org_id TEXT REFERENCES organisation(id),
    amount_fen BIGINT NOT NULL,
    due_date TEXT,
    -- Comma-joined invoice numbers, sorted.
    invoice_nos TEXT NOT NULL,
    status TEXT NOT NULL,
    registered_by_org_id TEXT NOT NULL REFERENCES organisation(id),
    registered_by TEXT NOT NULL,
    registered_at_ms BIGINT NOT NULL,
    released_at_ms BIGINT,
    released_by TEXT,
    leaf_index BIGINT,
    -- The national registry's (中登网) 登记证明编号 once the registration is filed there.
    registry_certificate_no TEXT
);
CREATE INDEX registration_creditor ON registration(creditor_org_id, registered_at_ms);
CREATE INDEX registration_debtor ON registration(debtor_uscc, registered_at_ms);
CREATE INDEX registration_financier ON registration(financier_org_id, registered_at_ms);
CREATE INDEX registration_fingerprint ON registration(fingerprint);

CREATE TABLE registration_claim (
    -- The invoice claimed: its creditor's USCC and invoice number, "USCC|number".
    invoice_key TEXT PRIMARY KEY,
    invoice_id TEXT NOT NULL REFERENCES trade_record(id),
    registration_id TEXT NOT NULL REFERENCES registration(id)
);
CREATE INDEX registration_claim_invoice ON registration_claim(invoice_id);
CREATE INDEX registration_claim_registration ON registration_claim(registration_id);
