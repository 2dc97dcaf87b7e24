-- Quizzes as in seed 000 (migration 000001). `IF NOT EXISTS` lets pairlink adopt a seed database.
CREATE TABLE IF NOT EXISTS quizzes (
    id         SERIAL PRIMARY KEY,
    name       VARCHAR(255),
    difficulty INTEGER,
    lef_sel    VARCHAR(255),
    rig_sel    VARCHAR(255),
    detail     VARCHAR(255)
);
CREATE INDEX IF NOT EXISTS quizzes_difficulty_idx ON quizzes (difficulty);
