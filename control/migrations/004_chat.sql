-- Meeting chat (PostgresChatStore; deployments with Cassandra keep chat there instead).
-- id is a version-1 time UUID; id_ticks is its 60-bit timestamp (100 ns units since 1582-10-15), the order of
-- history: PostgreSQL compares uuids byte by byte, which is not time order for version-1 UUIDs.
CREATE TABLE chat_messages (
  id           uuid PRIMARY KEY,
  meeting_id   text NOT NULL,
  id_ticks     bigint NOT NULL,
  sent_at      timestamptz NOT NULL,
  sender_id    text NOT NULL,
  sender_name  text NOT NULL,
  client_id    text NOT NULL,            -- chosen by the sending client: a retried send carries the same one
  recipient_id text,                     -- a direct message to one participant; null: to everyone
  body         text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 4000),
  CONSTRAINT chat_messages_idempotency_key UNIQUE (meeting_id, sender_id, client_id)
);
-- history pages: newest first within a meeting, continuing after a cursor (id_ticks, id)
CREATE INDEX chat_messages_history_idx ON chat_messages (meeting_id, id_ticks DESC, id DESC);
