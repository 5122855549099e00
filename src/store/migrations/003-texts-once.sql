-- silicon store, schema version 3: long texts stored once.
--
-- A call's system prompt (the persona: one per respondent, wave and
-- template), its messages and its parameters repeat across the calls of a
-- study: the same persona for every item and generation, the same question
-- for every respondent of a wave. Each distinct text is now a row of `texts`,
-- and a call refers to its three by id. The view `calls_with_texts` shows
-- calls with the texts in place, under the columns' old names.

CREATE TABLE texts (
  id INTEGER PRIMARY KEY,
  text TEXT NOT NULL UNIQUE
);

INSERT OR IGNORE INTO texts (text) SELECT system_prompt FROM calls;
INSERT OR IGNORE INTO texts (text) SELECT messages FROM calls;
INSERT OR IGNORE INTO texts (text) SELECT parameters FROM calls;

ALTER TABLE calls ADD COLUMN system_prompt_id INTEGER REFERENCES texts (id);
ALTER TABLE calls ADD COLUMN messages_id INTEGER REFERENCES texts (id);
ALTER TABLE calls ADD COLUMN parameters_id INTEGER REFERENCES texts (id);

UPDATE calls SET
  system_prompt_id = (SELECT id FROM texts WHERE text = calls.system_prompt),
  messages_id = (SELECT id FROM texts WHERE text = calls.messages),
  parameters_id = (SELECT id FROM texts WHERE text = calls.parameters);

ALTER TABLE calls DROP COLUMN system_prompt;
ALTER TABLE calls DROP COLUMN messages;
ALTER TABLE calls DROP COLUMN parameters;

CREATE VIEW calls_with_texts AS
  SELECT c.*, s.text AS system_prompt, m.text AS messages, p.text AS parameters
  FROM calls c
  JOIN texts s ON s.id = c.system_prompt_id
  JOIN texts m ON m.id = c.messages_id
  JOIN texts p ON p.id = c.parameters_id;
