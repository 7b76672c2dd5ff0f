-- Meetings, their members (invitees with roles), attendance (including the waiting room), and passcode lockouts.
CREATE TABLE meetings (
  id               text PRIMARY KEY,                  -- url-safe, also the edge node's meeting id
  owner_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title            text NOT NULL,
  kind             text NOT NULL CHECK (kind IN ('instant', 'scheduled')),
  starts_at        timestamptz,
  duration_minutes integer CHECK (duration_minutes BETWEEN 1 AND 1440),
  time_zone        text NOT NULL DEFAULT 'UTC',
  status           text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'live', 'ended')),
  access           text NOT NULL DEFAULT 'invited' CHECK (access IN ('invited', 'link')),
  passcode_hash    text,
  waiting_room     boolean NOT NULL DEFAULT false,
  mute_on_entry    boolean NOT NULL DEFAULT false,
  screen_share     text NOT NULL DEFAULT 'all' CHECK (screen_share IN ('all', 'hosts')),
  webinar          boolean NOT NULL DEFAULT false,
  max_participants integer NOT NULL DEFAULT 100 CHECK (max_participants BETWEEN 2 AND 10000),
  locked           boolean NOT NULL DEFAULT false,
  created_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  ended_at         timestamptz,
  CHECK (kind = 'instant' OR (starts_at IS NOT NULL AND duration_minutes IS NOT NULL))
);
CREATE INDEX meetings_owner_idx ON meetings (owner_id, starts_at);

-- Invitees and their roles (the owner is always host and is not listed here).
CREATE TABLE meeting_members (
  meeting_id text NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role       text NOT NULL CHECK (role IN ('host', 'cohost', 'panelist', 'participant', 'attendee')),
  PRIMARY KEY (meeting_id, user_id)
);
CREATE INDEX meeting_members_user_idx ON meeting_members (user_id);

-- Who asked to join, and what became of it: waiting (room), admitted, denied, removed (barred from re-entry).
CREATE TABLE meeting_participants (
  meeting_id   text NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  display_name text NOT NULL,
  role         text NOT NULL CHECK (role IN ('host', 'cohost', 'panelist', 'participant', 'attendee')),
  state        text NOT NULL CHECK (state IN ('waiting', 'admitted', 'denied', 'removed')),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (meeting_id, user_id)
);

-- Failed passcode attempts per meeting and client; a client over the limit is locked out for a while.
CREATE TABLE passcode_failures (
  meeting_id   text NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
  client_key   text NOT NULL,
  failures     integer NOT NULL DEFAULT 0,
  locked_until timestamptz,
  PRIMARY KEY (meeting_id, client_key)
);

-- Secret per-user calendar feed URLs (only a hash is stored; revoking deletes the row).
CREATE TABLE calendar_feeds (
  user_id     uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  secret_hash text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now()
);
