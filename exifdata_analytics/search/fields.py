"""The fields of the search language, as data: which query names select which columns.

A new search field over an existing column is one entry here (text, integer, real); a field
with a rule of its own (dates, folders, sizes, resources) also needs its method in
``compiler._Compiler.field``.
"""
from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

# scope names: where a text term is looked for
SCOPE_FIELDS = {"prompt": "prompt", "p": "prompt", "neg": "negative", "negative": "negative",
                 "negative_prompt": "negative", "n": "negative", "any": "any", "text": "any"}
# field -> columns searched (the first is the one compared for = and !=)
TEXT_FIELDS = {
    "model": ("model",), "checkpoint": ("model",),
    "hash": ("model_hash",), "model_hash": ("model_hash",),
    "sampler": ("sampler",), "scheduler": ("scheduler",), "schedule": ("scheduler",),
    "vae": ("vae",), "generator": ("generator",), "gen": ("generator",), "tool": ("generator",),
    "file": ("file_name",), "name": ("file_name",), "path": ("path",),
    "format": ("format",), "status": ("parse_status",), "error": ("error",),
    "sha256": ("sha256",), "parser": ("parser",),
}
INT_FIELDS = {"steps": "steps", "seed": "seed", "width": "width", "height": "height",
               "clip_skip": "clip_skip", "clipskip": "clip_skip", "clip": "clip_skip",
               "frames": "frame_count"}
REAL_FIELDS = {"cfg": "cfg_scale", "cfg_scale": "cfg_scale", "scale": "cfg_scale",
                "denoise": "denoising_strength", "denoising": "denoising_strength",
                "denoising_strength": "denoising_strength",
                "duration": "duration_s", "fps": "frame_rate"}
RESOURCE_FIELDS = {"lora": ("lora", "lycoris"), "lycoris": ("lycoris",), "embedding": ("embedding",),
                    "ti": ("embedding",), "hypernet": ("hypernetwork",), "resource": None}
# fields over the table of generation stages (stages.py): any pass of the image matches
STAGE_FIELDS = {"stage": "role", "stage_model": "model", "stage_sampler": "sampler"}
DATE_FIELDS = ("since", "until", "date", "created")
SPECIAL_FIELDS = ("folder", "dir", "size", "passes")

FIELD_NAMES = tuple(sorted(set(SCOPE_FIELDS) | set(TEXT_FIELDS) | set(INT_FIELDS) | set(REAL_FIELDS)
                           | set(RESOURCE_FIELDS) | set(STAGE_FIELDS) | set(DATE_FIELDS) | set(SPECIAL_FIELDS)))
MAIN_FIELDS = ("model:", "sampler:", "scheduler:", "vae:", "generator:", "folder:", "lora:", "steps>=",
                "cfg<", "seed:", "size:", "since:", "until:", "neg:", "any:", "status:", "format:")
