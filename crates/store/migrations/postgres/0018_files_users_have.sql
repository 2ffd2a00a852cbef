-- An invoice's standing at the tax authority (live, voided, red-flushed), as the invoice lists exported
-- from the e-tax service state it; absent when the submitter did not state it.
ALTER TABLE trade_record ADD COLUMN invoice_status TEXT;

-- An invoice's lines (goods, quantity, unit price, tax rate) as one party stated them with its invoice.
-- A restatement with other lines supersedes the set (superseded_at_ms set) rather than deleting it.
CREATE TABLE trade_line (
    record_id TEXT NOT NULL REFERENCES trade_record(id),
    line_no BIGINT NOT NULL,
    goods_name TEXT NOT NULL,
    specification TEXT,
    unit TEXT,
    quantity TEXT,
    unit_price TEXT,
    net_fen BIGINT NOT NULL,
    tax_fen BIGINT,
    tax_rate TEXT,
    tax_class_code TEXT,
    lines_sm3 TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    row_no BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    superseded_at_ms BIGINT
);
CREATE INDEX trade_line_record ON trade_line(record_id, superseded_at_ms, line_no);
