-- Console sign-ins: an API key exchanged for a server-side session (issue 14).
-- Only the SHA-256 of the cookie's token is stored; a session ends with its key
-- (ON DELETE CASCADE, and the lookup checks the key's revoked_at every request).
CREATE TABLE "console_sessions" (
    "id" UUID NOT NULL,
    "token_hash" CHAR(64) NOT NULL,
    "csrf_token" CHAR(43) NOT NULL,
    "team_id" UUID NOT NULL,
    "api_key_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "console_sessions_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "console_sessions_token_hash_key" ON "console_sessions"("token_hash");
CREATE INDEX "console_sessions_api_key_id_idx" ON "console_sessions"("api_key_id");
CREATE INDEX "console_sessions_expires_at_idx" ON "console_sessions"("expires_at");

ALTER TABLE "console_sessions" ADD CONSTRAINT "console_sessions_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "console_sessions" ADD CONSTRAINT "console_sessions_api_key_id_fkey" FOREIGN KEY ("api_key_id") REFERENCES "api_keys"("id") ON DELETE CASCADE ON UPDATE CASCADE;
