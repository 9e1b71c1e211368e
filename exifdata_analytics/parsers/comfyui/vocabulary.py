"""The names ComfyUI nodes give their inputs, and the patterns their classes follow.

Node classes are recognised by what they take wherever possible, so custom nodes that follow
ComfyUI's naming conventions are understood without a table entry; these tables are that
convention. Order matters where a tuple is tried first to last.
"""
from __future__ import annotations

import logging
import re

logger = logging.getLogger(__name__)

# ---- the image path (save node -> decode -> sampler -> previous pass) ------------------------------

# inputs that carry the image or latent, tried before any other input when walking up
IMAGE_PATH_FIRST = ("images", "image", "IMAGE", "samples", "latent_image", "latent", "pixels", "samples_to",
                    "LATENT")
# inputs that never lead to an earlier sampler of the same image
OFF_IMAGE_PATH = ("model", "clip", "vae", "positive", "negative", "conditioning", "guider", "upscale_model",
                  "control_net", "clip_vision")
# a sampler's inputs that may come from the previous pass
PASS_INPUTS = ("latent_image", "latent", "samples", "image", "pixels")
# a sampler's latent input, and the inputs a latent node takes its latent from
LATENT_INPUTS = ("latent_image", "latent", "samples")
LATENT_SOURCE_INPUTS = ("samples", "latent", "latent_image", "samples_to", "LATENT")
SAVE_RE = re.compile(r"save|image saver|imagesaver", re.IGNORECASE)
PREVIEW_RE = re.compile(r"preview", re.IGNORECASE)

# ---- values --------------------------------------------------------------------------------------

SEED_INPUTS = ("seed", "noise_seed", "seed_value", "Seed")
# where a primitive or settings node keeps its number
NUMBER_INPUTS = ("value", "Value", "int", "INT", "float", "FLOAT", "number", "Number")
# where a primitive keeps a setting's text (after the setting's own name)
SETTING_TEXT_INPUTS = ("value", "Value", "string", "String", "STRING")
# inputs that hold or link to a prompt's text, in the order they are tried
TEXT_INPUTS = ("populated_text", "text", "Text", "TEXT", "text_g", "text_l", "clip_l", "clip_g", "t5xxl",
               "prompt", "Prompt", "string", "String", "STRING", "value", "wildcard_text", "text_a",
               "bert", "mt5xl", "llama", "result", "output")
POLARITY_TEXT = {
    "positive": ("positive", "text_positive", "positive_prompt", "prompt_positive", "pos", "positive_text"),
    "negative": ("negative", "text_negative", "negative_prompt", "prompt_negative", "neg", "negative_text"),
}
# string inputs that are options or file names, never a prompt
NOT_TEXT = frozenset({"filename_prefix", "filename", "path", "ckpt_name", "unet_name", "vae_name", "lora_name",
                      "model_name", "control_net_name", "sampler_name", "scheduler", "upscale_method", "crop",
                      "weight_dtype", "type", "mode", "delimiter", "separator", "format", "extension",
                      "file_type", "output_ext", "image", "config_name", "clip_name", "clip_name1",
                      "clip_name2", "device", "seed_mode", "add_noise", "return_with_leftover_noise",
                      "token_normalization", "weight_interpretation", "dimensions", "resolution",
                      "aspect_ratio", "style", "title", "time_format", "method"})
DELIMITER_INPUTS = ("delimiter", "separator", "sep", "Delimiter", "join_with", "linebreak_addition")
CONCAT_RE = re.compile(r"concat|join|combine|merge|append", re.IGNORECASE)
# the parts a concatenation node joins: text_a, string_2, prompt_b…
PART_RE = re.compile(r"^(?:text|string|prompt)_?(?:[a-d]|\d{1,2})$", re.IGNORECASE)
# search-and-replace nodes: class -> (text input, what to find, what to put instead)
STRING_REPLACE = {
    "StringReplace": ("string", "find", "replace"),
}
# nodes whose text is made at run time (language models, captioners, taggers): what they output
# is not in the graph, and their inputs are not it; a prompt from them is unknowable
RUNTIME_TEXT_RE = re.compile(r"textgenerate|ollama|llm|gpt|gemini|claude|openai|florence|joycaption|caption|"
                             r"tagger|interrogat|llava|qwen.?vl|prompt.?enhanc|prompt.?gen", re.IGNORECASE)
# strings that hold a size ('832x1216', '1024 x 1024 (square)')
SIZE_STRINGS = ("dimensions", "resolution", "aspect_ratio", "size", "preset", "dimension")

# switch nodes: class -> (flag input, input selected when true, input selected when false)
SWITCHES = {
    "ComfySwitchNode": ("switch", "on_true", "on_false"),
}
# where a primitive keeps a flag
FLAG_INPUTS = ("value", "boolean", "Value", "BOOLEAN")

# ---- conditioning --------------------------------------------------------------------------------

CONDITIONING_INPUTS = ("conditioning", "conditioning_1", "conditioning_2", "conditioning_to", "conditioning_from",
                       "conditioning_a", "conditioning_b", "cond", "conditioning1", "conditioning2", "cond1",
                       "cond2", "base_conditioning")
# a guider's prompts (SamplerCustomAdvanced): DualCFGGuider's main scale (cfg_conds) pushes cond1
# away from cond2, so cond2 is its negative; 'negative' there is only the base of the second scale
GUIDER_POSITIVE = ("positive", "conditioning", "cond1")
GUIDER_NEGATIVE = ("cond2", "negative")
# words in the class of a node that outputs conditioning
CONDITIONING_CLASS_WORDS = ("conditioning", "textencode", "text encode", "controlnet", "guidance", "unclip",
                            "stylemodel", "pix2pix", "inpaintmodel", "cliptext", "encode", "cond")

# ---- models --------------------------------------------------------------------------------------

MODEL_INPUTS = ("model", "MODEL", "model1", "base_model", "unet", "model_a")
LOADER_NAMES = ("ckpt_name", "unet_name", "base_ckpt_name", "gguf_name", "model_path", "ckpt", "checkpoint",
                "model_file")
# names a loader gives its model only when no model comes into it (RES4LYF's ClownModelLoader, FluxLoader,
# SD35Loader, KJ's DiffusionModelLoaderKJ): on a patch node, such as AnimateDiff's loader, it names another file
SOURCE_LOADER_NAMES = ("model_name",)
LORA_WEIGHTS = ("strength_model", "lora_model_strength", "model_strength", "strength", "model_weight",
                "weight", "lora_wt", "model_str", "lora_strength")
# numbered LoRA slots of stacks: lora_1, lora_name_1, lora_01…
STACK_ITEM_RE = re.compile(r"^lora_?(?:name_?)?0*(\d+)$", re.IGNORECASE)
# the weight of stack slot n is '<prefix><n>'
STACK_WEIGHT_PREFIXES = ("model_weight_", "lora_wt_", "model_str_", "strength_", "lora_strength_", "weight_")
CLIP_SKIP_INPUTS = ("stop_at_clip_layer", "clip_skip")
# a switch in one of these states turns a stack slot off
OFF = frozenset({"off", "false", "disabled", "disable", "no", "0"})
# names that choose no file (a LoRA slot left empty, the checkpoint's own VAE)
NONE_NAMES = frozenset({"none", "", "baked vae", "automatic", "default", "null"})
