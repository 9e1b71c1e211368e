"""Template for a new generator parser: copy this file to ``parsers/<generator>.py``, rename,
and replace the example format. It is not in the registry; ``tests/test_docs.py`` runs it on
``EXAMPLE_TAGS`` so that the template itself keeps working. The steps are in
docs/adding-a-parser.md.

Say here, for the next reader: which tool writes this format, in which tags (ExifTool's
``Group:Name`` keys), what the values look like, and what tells it apart from the formats of
the parsers before it in the registry.

Example format (invented): a PNG text chunk ``example`` holding JSON such as
``{"text": "a cat", "steps": 20, "seed": 1, "sampler": "euler", "w": 512, "h": 768}``.
"""
from __future__ import annotations

import logging
from typing import Optional

from .base import GenerationParams, Parser, Resource, Tags
from .common import NotParsed, iter_json_objects, prompt_text, to_float, to_int, to_seed, to_text

logger = logging.getLogger(__name__)

GENERATOR = "Example"  # the normalized tool name stored in ``images.generator``
# the tag names (any group, any case) that can hold this format: the registry calls ``parse``
# only for files that have one of them
_SOURCES = ("Example",)

EXAMPLE_TAGS = {"PNG:Example": '{"text": "a cat", "negative": "blurry", "steps": 20, "seed": 1, "cfg": 7, '
                               '"sampler": "euler", "w": 512, "h": 768, "lora": "add_detail"}'}


def parse(tags: Tags) -> Optional[GenerationParams]:
    """The recipe, or None when the tags are not this format (the next parser then looks).
    Raise ``NotParsed("why")`` when they are this format but hold no usable recipe: the image
    is then stored as 'unparsed' with that reason, unless a later parser reads it."""
    for key, doc in iter_json_objects(tags, _SOURCES):
        if "text" not in doc:
            raise NotParsed(f"{key} holds Example JSON without a prompt")
        resources = tuple(Resource("lora", name, source=key) for name in [to_text(doc.get("lora"))] if name)
        return GenerationParams(
            generator=GENERATOR,
            prompt=prompt_text(doc.get("text")),
            negative_prompt=prompt_text(doc.get("negative")),
            steps=to_int(doc.get("steps")),
            seed=to_seed(doc.get("seed")),
            sampler=to_text(doc.get("sampler")),  # as written: canonical names are derived elsewhere
            cfg_scale=to_float(doc.get("cfg")),
            width=to_int(doc.get("w")),  # the generation size, not the pixel size
            height=to_int(doc.get("h")),
            params=dict(doc),  # everything, so that nothing read is lost
            resources=resources,
        )
    return None


PARSER = Parser("example", parse, frozenset(_SOURCES))
