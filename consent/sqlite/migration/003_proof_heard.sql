-- 003_proof_heard: how much of the notice the caller had heard when the accepted key came.
--
-- A key counts only after the caller heard at least min-notice of the notice (R-CONSENT-1:
-- consent is informed). The proof keeps the figure FreeSWITCH's own event timestamps give:
-- milliseconds of notice audio played before the key, over all prompts of the call. NULL for
-- decisions taken before this column existed, and for calls that never reached a prompt.
ALTER TABLE calls ADD COLUMN heard_ms INTEGER CHECK (heard_ms IS NULL OR heard_ms >= 0);
