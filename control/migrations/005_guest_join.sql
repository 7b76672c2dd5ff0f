-- Guest join: a meeting may let people in by name, without an account (the quick "open a link and meet" flow).
-- A guest is a user row bound to that one meeting (no password, an address under .invalid), with a web session;
-- the meeting's own rules (passcode, waiting room, lock, capacity, removal, end) apply to guests like to anyone.
ALTER TABLE meetings ADD COLUMN guest_join boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN guest_meeting_id text REFERENCES meetings (id) ON DELETE CASCADE;
CREATE INDEX users_guest_meeting_idx ON users (guest_meeting_id) WHERE guest_meeting_id IS NOT NULL;
