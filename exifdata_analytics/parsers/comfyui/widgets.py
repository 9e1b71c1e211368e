"""The widget order of ComfyUI's core nodes and of node packs' samplers: how a UI workflow's
``widgets_values`` list is named.

A UI workflow stores a node's settings as a bare list in the node's ``INPUT_TYPES`` order; the
names come from here (other nodes are named by the widget inputs the workflow lists, when their
count matches). A ``+`` marks a seed-like widget that the UI follows with a "control after
generate" value (``randomize``, ``fixed``…; ``null`` in Efficiency nodes' own seed widget), which
is skipped. Widgets after the last one listed are ignored, so a pack version that appends
widgets still reads. ``OLDER_LAYOUTS`` are a node's earlier orders, for workflows saved by an
older version of its pack: the first layout whose seed lines up with a control value is used.
"""
from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

WIDGETS: dict[str, tuple[str, ...]] = {
    # samplers and their parts
    "KSampler": ("seed+", "steps", "cfg", "sampler_name", "scheduler", "denoise"),
    "KSamplerAdvanced": ("add_noise", "noise_seed+", "steps", "cfg", "sampler_name", "scheduler", "start_at_step",
                         "end_at_step", "return_with_leftover_noise"),
    "SamplerCustom": ("add_noise", "noise_seed+", "cfg"),
    "RandomNoise": ("noise_seed+",),
    "KSamplerSelect": ("sampler_name",),
    "BasicScheduler": ("scheduler", "steps", "denoise"),
    "KarrasScheduler": ("steps", "sigma_max", "sigma_min", "rho"),
    "ExponentialScheduler": ("steps", "sigma_max", "sigma_min"),
    "SDTurboScheduler": ("steps", "denoise"),
    "BetaSamplingScheduler": ("steps", "alpha", "beta"),
    "Flux2Scheduler": ("steps", "width", "height"),
    "CFGGuider": ("cfg",),
    "DualCFGGuider": ("cfg_conds", "cfg_cond2_negative", "style"),
    "FluxGuidance": ("guidance",),
    # node packs' samplers (their INPUT_TYPES order; the examples of each pack read with them)
    "KSampler (Efficient)": ("seed+", "steps", "cfg", "sampler_name", "scheduler", "denoise", "preview_method",
                             "vae_decode"),
    "KSampler Adv. (Efficient)": ("add_noise", "noise_seed+", "steps", "cfg", "sampler_name", "scheduler",
                                  "start_at_step", "end_at_step", "return_with_leftover_noise", "preview_method",
                                  "vae_decode"),
    "KSampler //Inspire": ("seed+", "steps", "cfg", "sampler_name", "scheduler", "denoise", "noise_mode",
                           "batch_seed_mode", "variation_seed", "variation_strength", "variation_method"),
    "KSamplerAdvanced //Inspire": ("add_noise", "noise_seed+", "steps", "cfg", "sampler_name", "scheduler",
                                   "start_at_step", "end_at_step", "noise_mode", "return_with_leftover_noise",
                                   "batch_seed_mode", "variation_seed", "variation_strength", "variation_method"),
    "KSamplerPipe //Inspire": ("seed+", "steps", "cfg", "sampler_name", "scheduler", "denoise", "noise_mode",
                               "batch_seed_mode", "variation_seed", "variation_strength"),
    "ImpactKSamplerBasicPipe": ("seed+", "steps", "cfg", "sampler_name", "scheduler", "denoise"),
    "ImpactKSamplerAdvancedBasicPipe": ("add_noise", "noise_seed+", "steps", "cfg", "sampler_name", "scheduler",
                                        "start_at_step", "end_at_step", "return_with_leftover_noise"),
    "FaceDetailer": ("guide_size", "guide_size_for", "max_size", "seed+", "steps", "cfg", "sampler_name",
                     "scheduler", "denoise", "feather", "noise_mask", "force_inpaint", "bbox_threshold",
                     "bbox_dilation", "bbox_crop_factor", "sam_detection_hint", "sam_dilation", "sam_threshold",
                     "sam_bbox_expansion", "sam_mask_hint_threshold", "sam_mask_hint_use_negative", "drop_size",
                     "wildcard", "cycle"),
    "DetailerForEach": ("guide_size", "guide_size_for", "max_size", "seed+", "steps", "cfg", "sampler_name",
                        "scheduler", "denoise", "feather", "noise_mask", "force_inpaint", "wildcard", "cycle"),
    # RES4LYF: eta first, the seed after cfg; '-1' steps_to_run means all of them
    "ClownsharKSampler_Beta": ("eta", "sampler_name", "scheduler", "steps", "steps_to_run", "denoise", "cfg", "seed+",
                               "sampler_mode", "bongmath"),
    # node packs' loaders and text encoders
    "ClownModelLoader": ("model_name", "weight_dtype", "clip_name1_opt", "clip_name2_opt", "clip_name3_opt",
                         "clip_name4_opt", "clip_type", "vae_name"),
    "Efficient Loader": ("ckpt_name", "vae_name", "clip_skip", "lora_name", "lora_model_strength", "lora_clip_strength",
                         "positive", "negative", "token_normalization", "weight_interpretation", "empty_latent_width",
                         "empty_latent_height", "batch_size"),
    "BNK_CLIPTextEncodeAdvanced": ("text", "token_normalization", "weight_interpretation"),
    # loaders
    "CheckpointLoaderSimple": ("ckpt_name",),
    "CheckpointLoader": ("config_name", "ckpt_name"),
    "unCLIPCheckpointLoader": ("ckpt_name",),
    "ImageOnlyCheckpointLoader": ("ckpt_name",),
    "UNETLoader": ("unet_name", "weight_dtype"),
    "UnetLoaderGGUF": ("unet_name",),
    "CLIPLoader": ("clip_name", "type", "device"),
    "DualCLIPLoader": ("clip_name1", "clip_name2", "type", "device"),
    "VAELoader": ("vae_name",),
    "LoraLoader": ("lora_name", "strength_model", "strength_clip"),
    "LoraLoaderModelOnly": ("lora_name", "strength_model"),
    "UpscaleModelLoader": ("model_name",),
    "CLIPSetLastLayer": ("stop_at_clip_layer",),
    # text encoders and conditioning
    "CLIPTextEncode": ("text",),
    "CLIPTextEncodeSDXL": ("width", "height", "crop_w", "crop_h", "target_width", "target_height", "text_g",
                           "text_l"),
    "CLIPTextEncodeSDXLRefiner": ("ascore", "width", "height", "text"),
    "CLIPTextEncodeFlux": ("clip_l", "t5xxl", "guidance"),
    "TextEncodeQwenImageEditPlus": ("prompt",),
    "ConditioningSetArea": ("width", "height", "x", "y", "strength"),
    "ControlNetApply": ("strength",),
    "ControlNetApplyAdvanced": ("strength", "start_percent", "end_percent"),
    # latents (image and video)
    "EmptyLatentImage": ("width", "height", "batch_size"),
    "EmptySD3LatentImage": ("width", "height", "batch_size"),
    "EmptyFlux2LatentImage": ("width", "height", "batch_size"),
    "EmptyChromaRadianceLatentImage": ("width", "height", "batch_size"),
    "EmptyHunyuanLatentVideo": ("width", "height", "length", "batch_size"),
    "Wan22ImageToVideoLatent": ("width", "height", "length", "batch_size"),
    "WanVaceToVideo": ("width", "height", "length", "batch_size", "strength"),
    "LatentUpscale": ("upscale_method", "width", "height", "crop"),
    "LatentUpscaleBy": ("upscale_method", "scale_by"),
    "ImageScale": ("upscale_method", "width", "height", "crop"),
    "ImageScaleBy": ("upscale_method", "scale_by"),
    # values, text and switches
    "PrimitiveNode": ("value+",),
    "PrimitiveString": ("value",),
    "PrimitiveStringMultiline": ("value",),
    "PrimitiveInt": ("value+",),
    "PrimitiveFloat": ("value",),
    "PrimitiveBoolean": ("value",),
    "StringConcatenate": ("string_a", "string_b", "delimiter"),
    "StringReplace": ("string", "find", "replace"),
    "ComfySwitchNode": ("switch",),
    "SaveImage": ("filename_prefix",),
}
# Impact Pack before its detailers had max_size (2023; its own example workflows are saved so)
OLDER_LAYOUTS: dict[str, tuple[tuple[str, ...], ...]] = {
    "FaceDetailer": (("guide_size", "guide_size_for", "seed+", "steps", "cfg", "sampler_name", "scheduler", "denoise",
                      "feather", "noise_mask", "force_inpaint", "bbox_threshold", "bbox_dilation", "bbox_crop_factor",
                      "sam_detection_hint", "sam_dilation", "sam_threshold", "sam_bbox_expansion",
                      "sam_mask_hint_threshold", "sam_mask_hint_use_negative"),),
    "DetailerForEach": (("guide_size", "guide_size_for", "seed+", "steps", "cfg", "sampler_name", "scheduler",
                         "denoise", "feather", "noise_mask", "force_inpaint"),),
}
CONTROL_VALUES = frozenset({"fixed", "increment", "decrement", "randomize"})
# Classes whose values the tracer knows how to read (for error messages naming the others)
CORE_WIDGETS = frozenset(WIDGETS) | {"VAEDecode", "VAEEncode", "SaveImage", "PreviewImage", "LoadImage",
                                     "ConditioningCombine", "ConditioningConcat", "Reroute", "PrimitiveNode"}
