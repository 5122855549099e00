-- silicon store, schema version 2: vendor batches, answer distributions, prompt-cache savings.

-- One row per batch submitted to a vendor's batch API (OpenAI Batch API,
-- Anthropic Message Batches) or to the simulated provider's offline emulation.
-- Its requests are the `calls` rows with this batch_id; each call's request_key
-- is the batch line's custom_id.
CREATE TABLE batches (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs (id),   -- the run that submitted it
  vendor TEXT NOT NULL,
  model TEXT NOT NULL,
  -- submitting: recorded, not yet confirmed by the vendor (a run killed here leaves it unknown);
  -- submitted: the vendor holds it (vendor_batch_id set), results not yet stored;
  -- collected: its results are stored; failed: the vendor rejected the whole batch;
  -- lost: it can no longer be found (submission never confirmed, or results gone); its requests are asked again.
  status TEXT NOT NULL CHECK (status IN ('submitting', 'submitted', 'collected', 'failed', 'lost')),
  vendor_batch_id TEXT,
  input_file_id TEXT,            -- OpenAI: the uploaded JSONL
  output_file_id TEXT,           -- OpenAI: results of successful requests
  error_file_id TEXT,            -- OpenAI: results of failed and expired requests
  vendor_status TEXT,            -- the vendor's last word: validating, in_progress, finalizing, completed, ... / in_progress, canceling, ended
  request_counts TEXT,           -- JSON, as last polled
  requests INTEGER NOT NULL,     -- requests in the batch
  created_at TEXT NOT NULL,
  submitted_at TEXT,
  polled_at TEXT,
  ended_at TEXT,
  collected_at TEXT,
  message TEXT                   -- why it failed or was lost, redacted
);

CREATE INDEX batches_open ON batches (status) WHERE status IN ('submitting', 'submitted');

-- Calls sent inside a batch point at it; they stay 'sent' until the batch's results are stored.
ALTER TABLE calls ADD COLUMN batch_id INTEGER REFERENCES batches (id);
CREATE INDEX calls_by_batch ON calls (batch_id) WHERE batch_id IS NOT NULL;

-- logprobs elicitation: the probability the model put on tokens that are not
-- answer options (the distribution is renormalised over the options).
ALTER TABLE answers ADD COLUMN non_option_mass REAL;

-- What prompt caching saved in a run, in USD (negative when cache writes cost more than reads saved).
ALTER TABLE runs ADD COLUMN cache_savings_usd REAL NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN batch_calls INTEGER NOT NULL DEFAULT 0;
