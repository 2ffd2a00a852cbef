-- Four-flow verification: the current verdict on every blue invoice, recomputed per buyer–seller pair
-- whenever a submission changes that pair's trade.
CREATE TABLE verification (
    invoice_id TEXT PRIMARY KEY REFERENCES trade_record(id),
    buyer_uscc TEXT NOT NULL,
    seller_uscc TEXT NOT NULL,
    status TEXT NOT NULL,
    invoiced_fen BIGINT NOT NULL,
    paid_fen BIGINT NOT NULL,
    credited_fen BIGINT NOT NULL,
    reversed_fen BIGINT NOT NULL,
    discrepancies TEXT NOT NULL,
    evidence TEXT NOT NULL,
    verified_at_ms BIGINT NOT NULL
);
CREATE INDEX verification_pair ON verification(buyer_uscc, seller_uscc);
CREATE INDEX verification_seller ON verification(seller_uscc, status);
