-- Store schema 5: the cache's index by the cell a call asks, not by its request key.
--
-- A request key is a sha256 digest: each completed call inserted its key at a
-- random leaf of call_records_completed_by_key, so a commit of 64 completed
-- calls wrote about 50 index pages (half of all the pages it wrote, in the
-- demo). A call's cell ids (respondent, item, wave, model) follow the order in
-- which calls are made: the calls committed together share a few leaves. The
-- cache looks a request up by its cell and then compares the key (a key is a
-- digest of its cell, among the rest, so both find the same calls).
DROP INDEX call_records_completed_by_key;
CREATE INDEX call_records_completed_by_cell ON call_records (respondent_id, item_id, wave_id, model_id) WHERE status = 1;
