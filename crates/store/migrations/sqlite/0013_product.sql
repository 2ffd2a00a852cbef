-- Financing products (M12): a bank drafts, publishes and withdraws them; a chain-specific variant points
-- at its parent (same bank, one chain, narrower reach). Tiers are a comma-joined set ('' = any tier);
-- chains are rows of product_chain (none = every chain), so the catalogue filters by chain with an index.
CREATE TABLE product (
    id TEXT PRIMARY KEY,
    bank_org_id TEXT NOT NULL REFERENCES organisation(id),
    parent_product_id TEXT REFERENCES product(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    eligible_tiers TEXT NOT NULL DEFAULT '',
    evidence TEXT NOT NULL,
    amount_min_fen INTEGER NOT NULL,
    amount_max_fen INTEGER NOT NULL,
    term_min_days INTEGER NOT NULL,
    term_max_days INTEGER NOT NULL,
    rate_min_bp INTEGER NOT NULL,
    rate_max_bp INTEGER NOT NULL,
    advance_ratio_bp INTEGER NOT NULL,
    fee_bp INTEGER NOT NULL,
    fee_fixed_fen INTEGER NOT NULL,
    state TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    published_at_ms INTEGER,
    withdrawn_at_ms INTEGER,
    CHECK (amount_min_fen >= 1 AND amount_min_fen <= amount_max_fen),
    CHECK (term_min_days >= 1 AND term_min_days <= term_max_days),
    CHECK (rate_min_bp >= 1 AND rate_min_bp <= rate_max_bp),
    CHECK (advance_ratio_bp >= 1 AND advance_ratio_bp <= 10000),
    CHECK (fee_bp >= 0 AND fee_fixed_fen >= 0)
);
CREATE INDEX product_bank ON product(bank_org_id, state);
CREATE INDEX product_catalogue ON product(state, kind, published_at_ms);
CREATE INDEX product_parent ON product(parent_product_id);

CREATE TABLE product_chain (
    product_id TEXT NOT NULL REFERENCES product(id),
    chain_id TEXT NOT NULL REFERENCES chain(id),
    PRIMARY KEY (product_id, chain_id)
);
CREATE INDEX product_chain_chain ON product_chain(chain_id);
