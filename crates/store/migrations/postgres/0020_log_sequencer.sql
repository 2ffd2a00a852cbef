-- The verifiable log is sequenced: an operation writes its leaf into `log_pending` inside its own
-- transaction (no lock on the tree, so concurrent operations commit independently), and one sequencer
-- integrates committed pending leaves into the tree in batches, in the order it finds them. A leaf is
-- known by its `leaf_id` from the moment it is written; its `leaf_index` (its place in the tree, which
-- proofs use) exists once it is integrated. A crash between commit and integration loses nothing: the
-- pending rows stay until the batch that integrates them commits.
CREATE TABLE log_pending (
    leaf_id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    data TEXT NOT NULL,
    appended_at_ms BIGINT NOT NULL
);

-- The organisations a pending leaf concerns; copied into log_party when it is integrated. The reference
-- to organisation is checked when the operation writes, so a bad party fails that operation, not a batch.
CREATE TABLE log_pending_party (
    leaf_id BIGINT NOT NULL REFERENCES log_pending(leaf_id) ON DELETE CASCADE,
    org_id TEXT NOT NULL REFERENCES organisation(id),
    PRIMARY KEY (leaf_id, org_id)
);

-- Leaves integrated before sequencing get the id their index + 1; new ids continue after them (ids are
-- never reused: a sequence), so an id names one leaf forever.
ALTER TABLE log_leaf ADD COLUMN leaf_id BIGINT;
UPDATE log_leaf SET leaf_id = leaf_index + 1;
CREATE UNIQUE INDEX log_leaf_by_id ON log_leaf(leaf_id);
SELECT setval(pg_get_serial_sequence('log_pending', 'leaf_id'), COALESCE((SELECT MAX(leaf_index) + 2 FROM log_leaf), 1), false);

-- The records that name their leaf now keep its id (known at once) instead of its index.
ALTER TABLE submission RENAME COLUMN log_leaf_index TO log_leaf_id;
UPDATE submission SET log_leaf_id = log_leaf_id + 1 WHERE log_leaf_id IS NOT NULL;
ALTER TABLE confirmation RENAME COLUMN leaf_index TO log_leaf_id;
UPDATE confirmation SET log_leaf_id = log_leaf_id + 1 WHERE log_leaf_id IS NOT NULL;
ALTER TABLE registration RENAME COLUMN leaf_index TO log_leaf_id;
UPDATE registration SET log_leaf_id = log_leaf_id + 1 WHERE log_leaf_id IS NOT NULL;
ALTER TABLE commitment RENAME COLUMN leaf_index TO log_leaf_id;
UPDATE commitment SET log_leaf_id = log_leaf_id + 1 WHERE log_leaf_id IS NOT NULL;
ALTER TABLE commitment_transfer RENAME COLUMN leaf_index TO log_leaf_id;
UPDATE commitment_transfer SET log_leaf_id = log_leaf_id + 1 WHERE log_leaf_id IS NOT NULL;
ALTER TABLE loan RENAME COLUMN leaf_index TO log_leaf_id;
UPDATE loan SET log_leaf_id = log_leaf_id + 1 WHERE log_leaf_id IS NOT NULL;
