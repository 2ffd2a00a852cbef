-- Dedicated supply-chain credit lines (M7): granted by a bank to a core (or a supplier). used_fen only
-- moves through conditional updates that keep 0 <= used_fen <= limit_fen, so concurrent occupations can
-- never together exceed the line (the CHECK is the database's own guard behind that rule).
CREATE TABLE credit_line (
    id TEXT PRIMARY KEY,
    bank_org_id TEXT NOT NULL REFERENCES organisation(id),
    borrower_org_id TEXT NOT NULL REFERENCES organisation(id),
    kind TEXT NOT NULL,
    limit_fen INTEGER NOT NULL,
    used_fen INTEGER NOT NULL DEFAULT 0,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at_ms INTEGER NOT NULL,
    CHECK (used_fen >= 0 AND used_fen <= limit_fen)
);
CREATE INDEX credit_line_bank ON credit_line(bank_org_id, granted_at_ms);
CREATE INDEX credit_line_borrower ON credit_line(borrower_org_id, granted_at_ms);

-- Every occupation and release, named by what it is for; a retried one (same line, reference and
-- direction) is recognised by the unique key instead of counted twice.
CREATE TABLE credit_line_event (
    id TEXT PRIMARY KEY,
    line_id TEXT NOT NULL REFERENCES credit_line(id),
    direction TEXT NOT NULL,
    amount_fen INTEGER NOT NULL,
    reference TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    by_login TEXT NOT NULL,
    UNIQUE (line_id, reference, direction)
);
