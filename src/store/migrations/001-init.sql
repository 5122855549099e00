-- silicon store, schema version 1. One store per study: results/<study>/store.sqlite.
-- Every API call attempt is a row of `calls`; every (model, wave, respondent,
-- item, generation) cell has at most one row of `answers`; every invocation of
-- `silicon generate` is a row of `runs`. Times are ISO 8601 UTC strings.

CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  -- running: in progress, or killed (a later run marks it interrupted);
  -- completed: every planned cell answered or recorded as nonresponse/refusal;
  -- budget: stopped at the cost cap; stopped: interrupted by the user (Ctrl-C);
  -- failed: stopped by an error (bad key, bad request, store error).
  status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'budget', 'stopped', 'failed', 'interrupted')),
  pid INTEGER NOT NULL,
  argv TEXT NOT NULL,            -- JSON array of the command line, secrets redacted
  models TEXT NOT NULL,          -- JSON array of model ids this run generated for
  options TEXT NOT NULL,         -- JSON: concurrency, max cost, rate limits, ...
  planned_cells INTEGER NOT NULL DEFAULT 0,
  answered INTEGER NOT NULL DEFAULT 0,
  nonresponse INTEGER NOT NULL DEFAULT 0,
  refusals INTEGER NOT NULL DEFAULT 0,
  calls_sent INTEGER NOT NULL DEFAULT 0,
  calls_failed INTEGER NOT NULL DEFAULT 0,
  cache_hits INTEGER NOT NULL DEFAULT 0,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cached_input_tokens INTEGER NOT NULL DEFAULT 0,
  cache_write_tokens INTEGER NOT NULL DEFAULT 0,
  cost_usd REAL NOT NULL DEFAULT 0,
  message TEXT                   -- why it stopped, redacted
);

CREATE TABLE calls (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs (id),
  -- sha256 of everything that determines the answer (docs/generation.md)
  request_key TEXT NOT NULL,
  study TEXT NOT NULL,
  model TEXT NOT NULL,
  wave TEXT NOT NULL,
  respondent TEXT NOT NULL,
  item TEXT NOT NULL,
  generation INTEGER NOT NULL,   -- first generation this call asks for (1-based)
  n INTEGER NOT NULL,            -- generations asked for in this one call (OpenAI n)
  attempt INTEGER NOT NULL,      -- 1: first ask; 2, 3, ...: re-asks after an invalid answer
  try INTEGER NOT NULL,          -- 1, 2, ...: sends of this same request after transient failures
  system_prompt TEXT NOT NULL,
  messages TEXT NOT NULL,        -- JSON [{role, content}]
  parameters TEXT NOT NULL,      -- JSON {temperature, max_tokens, seed, n, answer_schema, ...}
  -- sent: on the wire (a row still 'sent' after its run ended was in flight when it was killed);
  -- completed: a usable response, stored with its answers; failed: an error, retried or not;
  -- interrupted: was 'sent' when its run died; it may or may not have been billed.
  status TEXT NOT NULL CHECK (status IN ('sent', 'completed', 'failed', 'interrupted')),
  raw_text TEXT,                 -- the answer text (n = 1), or a JSON array of the n texts
  choices TEXT,                  -- JSON [{text, refusal, finish_reason, top_logprobs}]
  parsed TEXT,                   -- JSON [{status, value, reason}] per choice
  input_tokens INTEGER,
  output_tokens INTEGER,
  cached_input_tokens INTEGER,
  cache_write_tokens INTEGER,
  cost_usd REAL,                 -- actual cost from the usage; NULL when unknown
  reserved_usd REAL NOT NULL,    -- worst-case cost reserved against the budget before sending
  latency_ms REAL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  error_class TEXT,
  error_message TEXT,            -- redacted
  http_status INTEGER,
  vendor_request_id TEXT,
  vendor_model TEXT
);

-- The cache: a completed response for a request key is reused, never paid for again.
CREATE INDEX calls_completed_by_key ON calls (request_key) WHERE status = 'completed';
CREATE INDEX calls_by_run_status ON calls (run_id, status);

CREATE TABLE answers (
  model TEXT NOT NULL,
  wave TEXT NOT NULL,
  respondent TEXT NOT NULL,
  item TEXT NOT NULL,
  generation INTEGER NOT NULL,
  -- sha256 of what determines this cell's answer; a changed prompt or
  -- parameter changes it, and the stored answer is then stale and regenerated
  cell_key TEXT NOT NULL,
  value REAL,                    -- the code or number; NULL unless answered
  distribution TEXT,             -- JSON {code: probability} for distribution elicitation
  status TEXT NOT NULL CHECK (status IN ('answered', 'nonresponse', 'refusal')),
  reason TEXT,                   -- why nonresponse or refusal
  -- 1: nonresponse because the vendor kept failing (429, 5xx, timeouts);
  -- a later run asks again. 0: final.
  transient INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL,     -- asks it took (1 = first answer valid)
  call_id INTEGER REFERENCES calls (id),  -- the call whose response decided it
  run_id INTEGER NOT NULL REFERENCES runs (id),
  created_at TEXT NOT NULL,
  PRIMARY KEY (model, wave, respondent, item, generation)
) WITHOUT ROWID;
