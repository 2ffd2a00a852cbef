-- What an organisation has said its own column headers mean (a field of the standard, an invoice line's
-- column, or "ignore"), keyed by the header's normalised text; applied to its files through every channel.
CREATE TABLE column_mapping (
    org_id TEXT NOT NULL REFERENCES organisation(id),
    header_key TEXT NOT NULL,
    header TEXT NOT NULL,
    meaning TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (org_id, header_key)
);
