-- Registration against double financing, continued (issue 4 item 7), and the confirmations the central
-- bank's receivables financing platform (中征应收账款融资服务平台, "crcrfsp") reports back.

-- The kind of registration at the national registry (pledge or factoring transfer), the period filed
-- in months, and the filer's note.
ALTER TABLE registration ADD COLUMN kind TEXT NOT NULL DEFAULT 'pledge';
ALTER TABLE registration ADD COLUMN term_months INTEGER NOT NULL DEFAULT 12;
ALTER TABLE registration ADD COLUMN note TEXT;

-- The invoices a registration covered, as they stood when it was made. Unlike registration_claim these
-- rows stay after a release, so a released registration still shows what it held and exports list
-- each invoice's amount.
CREATE TABLE registration_invoice (
    registration_id TEXT NOT NULL REFERENCES registration(id),
    invoice_id TEXT NOT NULL REFERENCES trade_record(id),
    invoice_no TEXT NOT NULL,
    amount_fen INTEGER NOT NULL,
    due_date TEXT,
    PRIMARY KEY (registration_id, invoice_id)
);
CREATE INDEX registration_invoice_invoice ON registration_invoice(invoice_id);

-- The last reference number given per year. Taking a number locks the year's row until the
-- registration commits, so registrations are numbered without gaps or duplicates across processes.
CREATE TABLE registration_sequence (
    year INTEGER PRIMARY KEY,
    last_no INTEGER NOT NULL
);

-- One import of a confirmation file: who sent it, its digest, and every refused row with its raw text
-- (JSON), so nothing in the file is lost.
CREATE TABLE external_confirmation_import (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    org_id TEXT NOT NULL REFERENCES organisation(id),
    file_name TEXT NOT NULL,
    file_sm3 TEXT NOT NULL,
    rows_total INTEGER NOT NULL,
    accepted INTEGER NOT NULL,
    rejected INTEGER NOT NULL,
    issues_json TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    imported_at_ms INTEGER NOT NULL
);
CREATE INDEX external_confirmation_import_org ON external_confirmation_import(org_id, imported_at_ms);

-- One receivable's result on an external platform, as imported. The latest row per invoice is current.
CREATE TABLE external_confirmation (
    id TEXT PRIMARY KEY,
    invoice_id TEXT NOT NULL REFERENCES trade_record(id),
    source TEXT NOT NULL,
    platform_reference TEXT NOT NULL,
    confirmed INTEGER NOT NULL,
    confirmed_date TEXT NOT NULL,
    amount_fen INTEGER,
    import_id TEXT NOT NULL REFERENCES external_confirmation_import(id),
    row_no INTEGER NOT NULL,
    imported_at_ms INTEGER NOT NULL,
    imported_by_org_id TEXT NOT NULL REFERENCES organisation(id),
    raw_row TEXT NOT NULL
);
CREATE INDEX external_confirmation_invoice ON external_confirmation(invoice_id, imported_at_ms);
