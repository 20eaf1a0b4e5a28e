-- Queue depth sampled per Site and minute (Unix minute), for /stats.
CREATE TABLE queue_samples (
    site_id TEXT NOT NULL,
    minute  INTEGER NOT NULL,
    queued  INTEGER NOT NULL,
    running INTEGER NOT NULL,
    PRIMARY KEY (site_id, minute)
);
