"""The database's schema, as the migrations that build it: version N's script brings a database
from version N-1 to N (``PRAGMA user_version``). A new database runs them all, in order. Never edit
a step that has shipped: databases in the field ran it already; add the next one (and what fills
its new columns of existing rows, ``db.FILL_AFTER_MIGRATION``).
"""
from __future__ import annotations

SCHEMA_VERSION = 5

# the triggers that keep the prompt index equal to images (schema 1, and again in schema 3)
_FTS_TRIGGERS = """
CREATE TRIGGER images_fts_insert AFTER INSERT ON images BEGIN
    INSERT INTO images_fts(rowid, prompt, negative_prompt) VALUES (new.id, new.prompt, new.negative_prompt);
END;
CREATE TRIGGER images_fts_delete AFTER DELETE ON images BEGIN
    INSERT INTO images_fts(images_fts, rowid, prompt, negative_prompt)
    VALUES ('delete', old.id, old.prompt, old.negative_prompt);
END;
CREATE TRIGGER images_fts_update AFTER UPDATE OF prompt, negative_prompt ON images BEGIN
    INSERT INTO images_fts(images_fts, rowid, prompt, negative_prompt)
    VALUES ('delete', old.id, old.prompt, old.negative_prompt);
    INSERT INTO images_fts(rowid, prompt, negative_prompt) VALUES (new.id, new.prompt, new.negative_prompt);
END;
"""

_SCHEMA_V1 = """
CREATE TABLE images (
    id                 INTEGER PRIMARY KEY,
    path               TEXT NOT NULL UNIQUE,
    file_name          TEXT NOT NULL,
    folder             TEXT NOT NULL,
    size_bytes         INTEGER,
    mtime_ns           INTEGER,
    sha256             TEXT,
    format             TEXT,
    image_width        INTEGER,
    image_height       INTEGER,
    generator          TEXT,
    prompt             TEXT,
    negative_prompt    TEXT,
    steps              INTEGER,
    seed,              -- no type: ComfyUI seeds reach 2**64-1, past SQLite's INTEGER; those stay exact as TEXT
    sampler            TEXT,
    scheduler          TEXT,
    cfg_scale          REAL,
    denoising_strength REAL,
    width              INTEGER,
    height             INTEGER,
    model              TEXT,
    model_hash         TEXT,
    vae                TEXT,
    clip_skip          INTEGER,
    params_json        TEXT,
    raw_json           TEXT,
    extra_json         TEXT,  -- tags our own readers found where ExifTool cannot look (stealth pixels)
    created_at         TEXT,
    parse_status       TEXT NOT NULL,
    error              TEXT,
    parser             TEXT,
    indexed_at         TEXT NOT NULL
);
CREATE INDEX images_folder ON images(folder);
CREATE INDEX images_generator ON images(generator);
CREATE INDEX images_model ON images(model);
CREATE INDEX images_sampler ON images(sampler);
CREATE INDEX images_sha256 ON images(sha256);
CREATE INDEX images_created_at ON images(created_at);
CREATE INDEX images_parse_status ON images(parse_status);

CREATE TABLE resources (
    id        INTEGER PRIMARY KEY,
    image_id  INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    kind      TEXT NOT NULL,
    name      TEXT NOT NULL,
    hash      TEXT,
    weight    REAL,
    source    TEXT
);
CREATE INDEX resources_image ON resources(image_id);
CREATE INDEX resources_kind_name ON resources(kind, name);

CREATE VIRTUAL TABLE images_fts USING fts5(
    prompt, negative_prompt, content='images', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2'
);
""" + _FTS_TRIGGERS

# one name per thing (canonical sampler, schedule, model, VAE, resource) and where the date came from;
# the indexes cover what names.refresh groups by, so that it reads indexes, not the table
_SCHEMA_V2 = """
ALTER TABLE images ADD COLUMN canonical_sampler TEXT;
ALTER TABLE images ADD COLUMN canonical_scheduler TEXT;
ALTER TABLE images ADD COLUMN canonical_model TEXT;
ALTER TABLE images ADD COLUMN canonical_vae TEXT;
ALTER TABLE images ADD COLUMN created_source TEXT;
ALTER TABLE resources ADD COLUMN canonical_name TEXT;
DROP INDEX images_sampler;
CREATE INDEX images_sampler ON images(sampler, scheduler, canonical_sampler, canonical_scheduler);
DROP INDEX images_model;
CREATE INDEX images_model ON images(model, model_hash, canonical_model);
CREATE INDEX images_vae ON images(vae, canonical_vae);
CREATE INDEX images_canonical_model ON images(canonical_model);
CREATE TABLE spellings (
    kind      TEXT NOT NULL,  -- 'checkpoint', 'vae', or a resource family: 'lora', 'embedding', …
    spelling  TEXT NOT NULL,  -- a name as some image wrote it
    canonical TEXT NOT NULL,  -- the entity it names
    PRIMARY KEY (kind, spelling)
) WITHOUT ROWID;
DROP INDEX resources_kind_name;
CREATE INDEX resources_kind_name ON resources(kind, name, hash, canonical_name);
CREATE TABLE model_file_hashes (  -- the unused command's cache: a models folder is hashed once
    path       TEXT PRIMARY KEY,
    size_bytes INTEGER NOT NULL,
    mtime_ns   INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    autov1     TEXT NOT NULL,
    addnet     TEXT
);
"""

# the prompt index names its content table as Datasette and sqlite-utils look for it
# (content="images": their detection matches that text, not content='images'); the index is
# rebuilt from the table. images_browse: every column but ExifTool's raw JSON, for browsing
_SCHEMA_V3 = """
DROP TRIGGER images_fts_insert;
DROP TRIGGER images_fts_delete;
DROP TRIGGER images_fts_update;
DROP TABLE images_fts;
CREATE VIRTUAL TABLE images_fts USING fts5(
    prompt, negative_prompt, content="images", content_rowid="id",
    tokenize='unicode61 remove_diacritics 2'
);
""" + _FTS_TRIGGERS + """
INSERT INTO images_fts(images_fts) VALUES ('rebuild');
CREATE VIEW images_browse AS SELECT
    id, path, file_name, folder, size_bytes, mtime_ns, sha256, format, image_width, image_height, generator,
    prompt, negative_prompt, steps, seed, sampler, scheduler, cfg_scale, denoising_strength, width, height,
    model, model_hash, vae, clip_skip, params_json, created_at, parse_status, error, parser, indexed_at,
    canonical_sampler, canonical_scheduler, canonical_model, canonical_vae, created_source
FROM images;
"""

# every sampler pass of images made in more than one (stages.py); the first pass stays in images
_SCHEMA_V4 = """
CREATE TABLE stages (
    image_id   INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    stage      INTEGER NOT NULL,  -- 0 = the first pass (the images row), then in the order they ran
    role       TEXT NOT NULL,     -- first, refiner, hires, pass
    sampler    TEXT,
    scheduler  TEXT,
    steps      INTEGER,
    cfg_scale  REAL,
    denoise    REAL,
    seed,                         -- no type, as images.seed
    model      TEXT,
    start_step INTEGER,
    end_step   INTEGER,
    loras_json TEXT,              -- [{"name", "weight"}] of LoRAs applied at this pass
    node       TEXT,              -- where it was read: ComfyUI node id and class, or the infotext key
    PRIMARY KEY (image_id, stage)
) WITHOUT ROWID;
CREATE INDEX stages_role_model ON stages(role, model);
"""

# videos and animations: play time, frame rate, frame count (motion.py); the view lists them too.
# Indexes for the numeric search fields: without them steps>=30, cfg<5 or size:832x1216 read every
# row of the table (0.3 s at 1,000,000 rows), with them a small index; lora:NAME finds the
# resources of an entity by its canonical name
_SCHEMA_V5 = """
ALTER TABLE images ADD COLUMN duration_s REAL;
ALTER TABLE images ADD COLUMN frame_rate REAL;
ALTER TABLE images ADD COLUMN frame_count INTEGER;
CREATE INDEX images_steps ON images(steps);
CREATE INDEX images_cfg_scale ON images(cfg_scale);
CREATE INDEX images_size ON images(width, height);
CREATE INDEX images_seed ON images(seed);
CREATE INDEX resources_kind_canonical ON resources(kind, canonical_name, image_id);
DROP VIEW images_browse;
CREATE VIEW images_browse AS SELECT
    id, path, file_name, folder, size_bytes, mtime_ns, sha256, format, image_width, image_height, generator,
    prompt, negative_prompt, steps, seed, sampler, scheduler, cfg_scale, denoising_strength, width, height,
    model, model_hash, vae, clip_skip, params_json, created_at, parse_status, error, parser, indexed_at,
    canonical_sampler, canonical_scheduler, canonical_model, canonical_vae, created_source,
    duration_s, frame_rate, frame_count
FROM images;
"""

# version -> script that brings a database from version-1 to version
MIGRATIONS = {1: _SCHEMA_V1, 2: _SCHEMA_V2, 3: _SCHEMA_V3, 4: _SCHEMA_V4, 5: _SCHEMA_V5}
# the columns images_browse leaves out (tests check it has every other one)
BROWSE_VIEW_OMITS = ("raw_json", "extra_json")
