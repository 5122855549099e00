-- silicon store, schema version 4: compact rows.
--
-- A call and an answer used to repeat, per row, the names of their study,
-- model, wave, respondent and item, keys as 64-character hex, times as ISO
-- strings, and a response's text three times (raw_text, choices, parsed).
-- Now:
-- - `names` holds each distinct name once; rows refer to it by id;
-- - request and cell keys are the 32 bytes of their sha256 (BLOBs);
-- - times are integer milliseconds since 1970-01-01 UTC;
--   (a key that is not lowercase hex, or a time that is not an ISO string
--   to the millisecond, is kept as the text it was);
-- - a status is a small integer (calls: 0 sent, 1 completed, 2 failed,
--   3 interrupted; answers: 0 answered, 1 nonresponse, 2 refusal);
-- - `texts` is looked up by a 48-bit digest of each text (an index of the
--   texts themselves doubled their size), and the cache by the first
--   8 bytes of a request key;
-- - `responses` holds what a completed call's response said (choices) and
--   how each choice was read (parsed), once per distinct pair as far as the
--   writer remembers (a short JSON answer repeats across thousands of calls);
--   raw_text is derived from choices.
-- The rows live in `call_records` and `answer_records`. The views `calls`,
-- `answers` and `calls_with_texts` show them under the columns and formats of
-- schema 3 (names, hex keys, ISO times, statuses as words), for queries and
-- for readers that knew the store before.
--
-- Foreign keys are checked after the migration, not during it (src/store/db.ts).

DROP VIEW calls_with_texts;

CREATE TABLE texts_v4 (
  id INTEGER PRIMARY KEY,
  text TEXT NOT NULL,
  digest INTEGER NOT NULL        -- the first 48 bits of sha256(text): what a text is looked up by
);
INSERT INTO texts_v4 (id, text, digest) SELECT id, text, silicon_text_digest(text) FROM texts;
DROP TABLE texts;
ALTER TABLE texts_v4 RENAME TO texts;
CREATE INDEX texts_by_digest ON texts (digest);

CREATE TABLE names (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);

INSERT OR IGNORE INTO names (name)
  SELECT study FROM calls UNION SELECT model FROM calls UNION SELECT wave FROM calls
  UNION SELECT respondent FROM calls UNION SELECT item FROM calls
  UNION SELECT vendor_model FROM calls WHERE vendor_model IS NOT NULL
  UNION SELECT model FROM answers UNION SELECT wave FROM answers
  UNION SELECT respondent FROM answers UNION SELECT item FROM answers;

CREATE TABLE responses (
  id INTEGER PRIMARY KEY,
  choices TEXT NOT NULL,         -- JSON [{text, refusal, finish_reason, top_logprobs}]
  parsed TEXT NOT NULL           -- JSON [{status, value, reason}] per choice
);

CREATE INDEX responses_by_content ON responses (choices, parsed);
INSERT INTO responses (choices, parsed)
  SELECT DISTINCT choices, parsed FROM calls WHERE choices IS NOT NULL AND parsed IS NOT NULL;

CREATE TABLE call_records (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs (id),
  request_key BLOB NOT NULL,     -- sha256 (32 bytes) of everything that determines the answer
  study_id INTEGER NOT NULL REFERENCES names (id),
  model_id INTEGER NOT NULL REFERENCES names (id),
  wave_id INTEGER NOT NULL REFERENCES names (id),
  respondent_id INTEGER NOT NULL REFERENCES names (id),
  item_id INTEGER NOT NULL REFERENCES names (id),
  generation INTEGER NOT NULL,
  n INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  try INTEGER NOT NULL,
  system_prompt_id INTEGER NOT NULL REFERENCES texts (id),
  messages_id INTEGER NOT NULL REFERENCES texts (id),
  parameters_id INTEGER NOT NULL REFERENCES texts (id),
  status INTEGER NOT NULL CHECK (status IN (0, 1, 2, 3)),   -- 0 sent, 1 completed, 2 failed, 3 interrupted
  response_id INTEGER REFERENCES responses (id),
  input_tokens INTEGER,
  output_tokens INTEGER,
  cached_input_tokens INTEGER,
  cache_write_tokens INTEGER,
  cost_usd REAL,
  reserved_usd REAL NOT NULL,
  latency_ms REAL,
  started_at INTEGER NOT NULL,   -- ms since 1970-01-01 UTC
  finished_at INTEGER,
  error_class TEXT,
  error_message TEXT,
  http_status INTEGER,
  vendor_request_id TEXT,
  vendor_model_id INTEGER REFERENCES names (id),
  batch_id INTEGER REFERENCES batches (id)
);

INSERT INTO call_records (id, run_id, request_key, study_id, model_id, wave_id, respondent_id, item_id,
    generation, n, attempt, try, system_prompt_id, messages_id, parameters_id, status, response_id,
    input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, cost_usd, reserved_usd, latency_ms,
    started_at, finished_at, error_class, error_message, http_status, vendor_request_id, vendor_model_id, batch_id)
  SELECT c.id, c.run_id, CASE WHEN c.request_key GLOB '*[^0-9a-f]*' OR length(c.request_key) % 2 = 1 THEN c.request_key ELSE unhex(c.request_key) END,
    (SELECT id FROM names WHERE name = c.study), (SELECT id FROM names WHERE name = c.model),
    (SELECT id FROM names WHERE name = c.wave), (SELECT id FROM names WHERE name = c.respondent),
    (SELECT id FROM names WHERE name = c.item),
    c.generation, c.n, c.attempt, c.try, c.system_prompt_id, c.messages_id, c.parameters_id,
    CASE c.status WHEN 'sent' THEN 0 WHEN 'completed' THEN 1 WHEN 'failed' THEN 2 WHEN 'interrupted' THEN 3 END,
    (SELECT id FROM responses r WHERE r.choices = c.choices AND r.parsed = c.parsed),
    c.input_tokens, c.output_tokens, c.cached_input_tokens, c.cache_write_tokens, c.cost_usd, c.reserved_usd, c.latency_ms,
    CASE WHEN strftime('%Y-%m-%dT%H:%M:%fZ', c.started_at) = c.started_at THEN CAST(round((julianday(c.started_at) - 2440587.5) * 86400000) AS INTEGER) ELSE c.started_at END,
    CASE WHEN strftime('%Y-%m-%dT%H:%M:%fZ', c.finished_at) = c.finished_at THEN CAST(round((julianday(c.finished_at) - 2440587.5) * 86400000) AS INTEGER) ELSE c.finished_at END,
    c.error_class, c.error_message, c.http_status, c.vendor_request_id,
    (SELECT id FROM names WHERE name = c.vendor_model), c.batch_id
  FROM calls c ORDER BY c.id;

DROP INDEX responses_by_content;

CREATE TABLE answer_records (
  model_id INTEGER NOT NULL REFERENCES names (id),
  wave_id INTEGER NOT NULL REFERENCES names (id),
  respondent_id INTEGER NOT NULL REFERENCES names (id),
  item_id INTEGER NOT NULL REFERENCES names (id),
  generation INTEGER NOT NULL,
  cell_key BLOB NOT NULL,        -- sha256 (32 bytes) of what determines this cell's answer
  value REAL,
  distribution TEXT,
  non_option_mass REAL,
  status INTEGER NOT NULL CHECK (status IN (0, 1, 2)),   -- 0 answered, 1 nonresponse, 2 refusal
  reason TEXT,
  transient INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL,
  call_id INTEGER REFERENCES call_records (id),
  run_id INTEGER NOT NULL REFERENCES runs (id),
  created_at INTEGER NOT NULL,   -- ms since 1970-01-01 UTC
  PRIMARY KEY (model_id, wave_id, respondent_id, item_id, generation)
) WITHOUT ROWID;

INSERT INTO answer_records (model_id, wave_id, respondent_id, item_id, generation, cell_key, value, distribution,
    non_option_mass, status, reason, transient, attempts, call_id, run_id, created_at)
  SELECT (SELECT id FROM names WHERE name = a.model), (SELECT id FROM names WHERE name = a.wave),
    (SELECT id FROM names WHERE name = a.respondent), (SELECT id FROM names WHERE name = a.item),
    a.generation, CASE WHEN a.cell_key GLOB '*[^0-9a-f]*' OR length(a.cell_key) % 2 = 1 THEN a.cell_key ELSE unhex(a.cell_key) END, a.value, a.distribution, a.non_option_mass,
    CASE a.status WHEN 'answered' THEN 0 WHEN 'nonresponse' THEN 1 WHEN 'refusal' THEN 2 END, a.reason, a.transient,
    a.attempts, a.call_id, a.run_id, CASE WHEN strftime('%Y-%m-%dT%H:%M:%fZ', a.created_at) = a.created_at THEN CAST(round((julianday(a.created_at) - 2440587.5) * 86400000) AS INTEGER) ELSE a.created_at END
  FROM answers a;

DROP TABLE answers;
DROP INDEX calls_completed_by_key;
DROP INDEX calls_by_run_status;
DROP INDEX calls_by_batch;
DROP TABLE calls;

-- The cache: a completed response for a request key is reused, never paid for again.
-- By the key's first 8 bytes: a quarter of the key's size, still unique in practice (the key itself is compared too).
CREATE INDEX call_records_completed_by_key ON call_records (substr(request_key, 1, 8)) WHERE status = 1;
-- Calls on the wire, by run: what a killed run left in flight. Small: a call leaves it when it ends.
CREATE INDEX call_records_sent_by_run ON call_records (run_id) WHERE status = 0;
CREATE INDEX call_records_by_batch ON call_records (batch_id) WHERE batch_id IS NOT NULL;

-- Schema 3's tables, as views.
CREATE VIEW calls AS
  SELECT c.id, c.run_id, CASE typeof(c.request_key) WHEN 'blob' THEN lower(hex(c.request_key)) ELSE c.request_key END AS request_key,
    s.name AS study, m.name AS model, w.name AS wave, r.name AS respondent, i.name AS item,
    c.generation, c.n, c.attempt, c.try,
    CASE c.status WHEN 0 THEN 'sent' WHEN 1 THEN 'completed' WHEN 2 THEN 'failed' WHEN 3 THEN 'interrupted' END AS status,
    CASE WHEN o.choices IS NULL THEN NULL
      WHEN json_array_length(o.choices) = 1 THEN json_extract(o.choices, '$[0].text')
      ELSE (SELECT json_group_array(json_extract(e.value, '$.text')) FROM json_each(o.choices) e) END AS raw_text,
    o.choices, o.parsed,
    c.input_tokens, c.output_tokens, c.cached_input_tokens, c.cache_write_tokens, c.cost_usd, c.reserved_usd,
    c.latency_ms,
    CASE typeof(c.started_at) WHEN 'integer' THEN strftime('%Y-%m-%dT%H:%M:%fZ', c.started_at / 1000.0, 'unixepoch') ELSE c.started_at END AS started_at,
    CASE typeof(c.finished_at) WHEN 'integer' THEN strftime('%Y-%m-%dT%H:%M:%fZ', c.finished_at / 1000.0, 'unixepoch') ELSE c.finished_at END AS finished_at,
    c.error_class, c.error_message, c.http_status, c.vendor_request_id, vm.name AS vendor_model, c.batch_id,
    c.system_prompt_id, c.messages_id, c.parameters_id
  FROM call_records c
  JOIN names s ON s.id = c.study_id
  JOIN names m ON m.id = c.model_id
  JOIN names w ON w.id = c.wave_id
  JOIN names r ON r.id = c.respondent_id
  JOIN names i ON i.id = c.item_id
  LEFT JOIN names vm ON vm.id = c.vendor_model_id
  LEFT JOIN responses o ON o.id = c.response_id;

CREATE VIEW answers AS
  SELECT m.name AS model, w.name AS wave, r.name AS respondent, i.name AS item, a.generation,
    CASE typeof(a.cell_key) WHEN 'blob' THEN lower(hex(a.cell_key)) ELSE a.cell_key END AS cell_key, a.value, a.distribution,
    CASE a.status WHEN 0 THEN 'answered' WHEN 1 THEN 'nonresponse' WHEN 2 THEN 'refusal' END AS status, a.reason, a.transient, a.attempts,
    a.call_id, a.run_id, CASE typeof(a.created_at) WHEN 'integer' THEN strftime('%Y-%m-%dT%H:%M:%fZ', a.created_at / 1000.0, 'unixepoch') ELSE a.created_at END AS created_at,
    a.non_option_mass
  FROM answer_records a
  JOIN names m ON m.id = a.model_id
  JOIN names w ON w.id = a.wave_id
  JOIN names r ON r.id = a.respondent_id
  JOIN names i ON i.id = a.item_id;

CREATE VIEW calls_with_texts AS
  SELECT c.*, s.text AS system_prompt, m.text AS messages, p.text AS parameters
  FROM calls c
  JOIN texts s ON s.id = c.system_prompt_id
  JOIN texts m ON m.id = c.messages_id
  JOIN texts p ON p.id = c.parameters_id;
