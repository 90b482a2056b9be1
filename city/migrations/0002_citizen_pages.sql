-- The citizen's page at the city: an issued ticket's page key (a hash of the token in
-- its QR, which the city never sees) finds the ticket.
ALTER TABLE events ADD COLUMN page text;
CREATE INDEX events_by_page ON events (page) WHERE page IS NOT NULL;
