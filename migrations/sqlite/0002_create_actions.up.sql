-- Actions as in seed 000 (migration 000002): a quiz without a name.
CREATE TABLE IF NOT EXISTS actions (
    id         INTEGER PRIMARY KEY,
    difficulty INTEGER,
    lef_sel    VARCHAR(255),
    rig_sel    VARCHAR(255),
    detail     VARCHAR(255)
);
CREATE INDEX IF NOT EXISTS actions_difficulty_idx ON actions (difficulty);
