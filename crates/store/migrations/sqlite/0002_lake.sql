-- The data lake: submissions (one file, message or API call) with their files and report lines, and the
-- canonical trade records with lineage and version history.

CREATE TABLE submission (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisation(id),
    channel TEXT NOT NULL,
    source TEXT NOT NULL,
    media_type TEXT NOT NULL,
    raw_sm3 TEXT NOT NULL,
    raw_size_bytes INTEGER NOT NULL,
    status TEXT NOT NULL,
    rows_total INTEGER NOT NULL DEFAULT 0,
    accepted INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    warnings INTEGER NOT NULL DEFAULT 0,
    file_errors INTEGER NOT NULL DEFAULT 0,
    error_code TEXT,
    error_en TEXT,
    error_zh TEXT,
    submitted_by TEXT NOT NULL,
    log_leaf_index INTEGER,
    received_at_ms INTEGER NOT NULL,
    finished_at_ms INTEGER
);
CREATE INDEX submission_org ON submission(org_id, received_at_ms);

CREATE TABLE submission_file (
    submission_id TEXT NOT NULL REFERENCES submission(id),
    file_no INTEGER NOT NULL,
    name TEXT NOT NULL,
    raw_sm3 TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    format TEXT NOT NULL,
    encoding TEXT,
    rows_total INTEGER NOT NULL DEFAULT 0,
    accepted INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    error_code TEXT,
    error_en TEXT,
    error_zh TEXT,
    PRIMARY KEY (submission_id, file_no)
);

CREATE TABLE submission_issue (
    submission_id TEXT NOT NULL REFERENCES submission(id),
    seq INTEGER NOT NULL,
    severity TEXT NOT NULL,
    file_name TEXT NOT NULL,
    sheet TEXT,
    row_no INTEGER,
    field TEXT,
    code TEXT NOT NULL,
    en TEXT NOT NULL,
    zh TEXT NOT NULL,
    raw_text TEXT,
    PRIMARY KEY (submission_id, seq)
);

CREATE TABLE trade_record (
    id TEXT PRIMARY KEY,
    record_type TEXT NOT NULL,
    natural_key TEXT NOT NULL UNIQUE,
    version INTEGER NOT NULL,
    content_sm3 TEXT NOT NULL,
    doc_no TEXT NOT NULL,
    invoice_code TEXT NOT NULL,
    doc_date TEXT NOT NULL,
    month TEXT NOT NULL,
    buyer_uscc TEXT NOT NULL,
    buyer_name TEXT,
    seller_uscc TEXT NOT NULL,
    seller_name TEXT,
    currency TEXT NOT NULL,
    total_fen INTEGER NOT NULL,
    tax_fen INTEGER,
    net_fen INTEGER,
    term_days INTEGER,
    term_basis TEXT,
    invoice_kind TEXT,
    acceptance_status TEXT,
    accepted_date TEXT,
    payment_method TEXT,
    payee_account_sm3 TEXT,
    payee_account_last4 TEXT,
    order_refs TEXT NOT NULL,
    delivery_refs TEXT NOT NULL,
    invoice_refs TEXT NOT NULL,
    remarks TEXT,
    chain_id TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    file_name TEXT NOT NULL,
    row_no INTEGER NOT NULL,
    submitter_org_id TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
CREATE INDEX trade_record_buyer ON trade_record(buyer_uscc, record_type, doc_date);
CREATE INDEX trade_record_seller ON trade_record(seller_uscc, record_type, doc_date);
CREATE INDEX trade_record_partition ON trade_record(record_type, chain_id, month, id);
CREATE INDEX trade_record_submission ON trade_record(submission_id);

-- Earlier versions of a record, written when a submission changes it; the current version stays in
-- trade_record.
CREATE TABLE trade_record_version (
    record_id TEXT NOT NULL REFERENCES trade_record(id),
    version INTEGER NOT NULL,
    content_sm3 TEXT NOT NULL,
    data TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    row_no INTEGER NOT NULL,
    channel TEXT NOT NULL,
    superseded_at_ms INTEGER NOT NULL,
    PRIMARY KEY (record_id, version)
);

-- Curated-zone partitions (record type / chain / month). Every submission that changes a partition
-- increments `changes` in its own transaction; the partition's Parquet file reflects `published_changes`.
-- A partition with changes <> published_changes is stale and is rewritten from the database.
CREATE TABLE curated_partition (
    record_type TEXT NOT NULL,
    chain_id TEXT NOT NULL,
    month TEXT NOT NULL,
    changes INTEGER NOT NULL DEFAULT 0,
    published_changes INTEGER NOT NULL DEFAULT 0,
    rows_total INTEGER NOT NULL DEFAULT 0,
    published_at_ms INTEGER,
    PRIMARY KEY (record_type, chain_id, month)
);
