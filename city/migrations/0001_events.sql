-- Every office's events, once each: an office's event is known by its site and seq.
CREATE TABLE offices (
    site          text PRIMARY KEY,
    first_stored  timestamptz NOT NULL DEFAULT now(),
    last_seq      bigint NOT NULL DEFAULT 0,
    -- How many of its events are stored: fewer than last_seq means some are missing.
    stored        bigint NOT NULL DEFAULT 0,
    last_event_at timestamptz
);

CREATE TABLE events (
    site       text NOT NULL REFERENCES offices (site),
    seq        bigint NOT NULL,
    at         timestamptz NOT NULL,
    -- The business day, in the city's time zone.
    day        date NOT NULL,
    kind       text NOT NULL,
    -- The ticket it is about, if any.
    ticket     text,
    body       jsonb NOT NULL,
    -- Where it was in the cluster's stream: the order the city received it in.
    stream_seq bigint NOT NULL,
    stored_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (site, seq)
);
CREATE INDEX events_by_day ON events (day, site, kind);
CREATE INDEX events_by_ticket ON events (site, ticket) WHERE ticket IS NOT NULL;

-- A message that was no event (not JSON, no seq): kept to be looked at, never retried.
CREATE TABLE rejected (
    id         bigserial PRIMARY KEY,
    subject    text NOT NULL,
    stream_seq bigint NOT NULL UNIQUE,
    reason     text NOT NULL,
    payload    bytea NOT NULL,
    stored_at  timestamptz NOT NULL DEFAULT now()
);

-- A second, different event under a seq already stored (an office whose store was
-- wiped counts from 1 again): the first one stays, this one is kept here.
CREATE TABLE conflicts (
    site       text NOT NULL,
    seq        bigint NOT NULL,
    stream_seq bigint NOT NULL,
    body       jsonb NOT NULL,
    stored_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site, seq, stream_seq)
);
